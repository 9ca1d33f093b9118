import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { VERSION } from './package-info.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/*
 * The systemd unit scripts/install-service.sh writes runs this checkout's built `gatehouse` with
 * an absolute node: a service manager's PATH has neither. Checked by running its command line.
 * Needs `npm run build` (scripts/test.sh builds first).
 */
it('installs a service unit whose command line is this checkout’s built gatehouse', () => {
  const unit = execFileSync('bash', ['scripts/install-service.sh', '--print'], { cwd: REPO, encoding: 'utf8' });
  const execStart = /^ExecStart="([^"]+)" "([^"]+)" daemon --quiet$/m.exec(unit);
  expect(execStart, unit).not.toBeNull();
  const [, node, gatehouse] = execStart!;
  expect(node).toMatch(/^\//); // absolute
  expect(existsSync(gatehouse!)).toBe(true);
  expect(execFileSync(node!, [gatehouse!, '--version'], { encoding: 'utf8' }).trim()).toBe(VERSION);
});
