import { expect, it } from 'vitest';
import { failureAction, failurePage } from './failure-page.js';

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
