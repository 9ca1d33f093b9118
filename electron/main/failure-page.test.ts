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
  const links = [...html.matchAll(/href="([^"]+)"/g)].map((match) => failureAction(match[1]!));
  expect(links).toEqual(['retry', 'open-data-dir', 'open-log', 'quit']);
});

it('recognises only its own action links', () => {
  expect(failureAction('gatehouse://action/retry')).toBe('retry');
  expect(failureAction('gatehouse://action/rm-rf')).toBeNull();
  expect(failureAction('https://example.com/retry')).toBeNull();
  expect(failureAction('gatehouse://app/index.html')).toBeNull();
});
