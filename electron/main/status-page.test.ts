import { expect, it } from 'vitest';
import { failureAction, failurePage, startingPage } from './status-page.js';

it('shows the reason escaped, where the data is, and every way out', () => {
  const html = failurePage({
    reason: 'Port 7420 is already in use. <script>alert(1)</script>',
    dataDir: '/home/ada/.local/share/gatehouse',
    logFile: '/home/ada/.local/share/gatehouse/logs/gatehoused.log',
  });
  expect(html).toContain('Port 7420 is already in use. &lt;script&gt;alert(1)&lt;/script&gt;');
  expect(html).not.toContain('<script');
  expect(html).toContain("default-src 'none'");
  expect(html).toContain('/home/ada/.local/share/gatehouse/logs/gatehoused.log');
  const links = (page: string) => [...page.matchAll(/href="([^"]+)"/g)].map((match) => failureAction(match[1]!));
  expect(links(html)).toEqual(['retry', 'free-port', 'open-data-dir', 'open-log', 'quit']);

  // A free port is a way out only when the port is the problem.
  const locked = failurePage({ reason: 'No OS keychain is reachable (locked).', dataDir: '/d', logFile: '/d/l' });
  expect(links(locked)).toEqual(['retry', 'open-data-dir', 'open-log', 'quit']);
});

it('recognises only its own action links', () => {
  expect(failureAction('gatehouse://action/retry')).toBe('retry');
  expect(failureAction('gatehouse://action/rm-rf')).toBeNull();
  expect(failureAction('https://example.com/retry')).toBeNull();
  expect(failureAction('gatehouse://app/index.html')).toBeNull();
});

it('says the daemon is starting, or restarting with the reason it stopped, with no way to run a script', () => {
  const starting = startingPage({ logFile: '/d/logs/gatehoused.log' });
  expect(starting).toContain('Starting the Gatehouse daemon');
  expect(starting).toContain("default-src 'none'");

  const restarting = startingPage({
    restarting: { reason: 'exited with code 1 <b>', attempt: 2 },
    logFile: '/d/logs/gatehoused.log',
  });
  expect(restarting).toContain('It stopped: exited with code 1 &lt;b&gt; (attempt 2).');
  expect(restarting).toContain('/d/logs/gatehoused.log');
  expect(restarting).not.toContain('<script');
});
