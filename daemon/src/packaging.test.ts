import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DAEMON_NODE_FLAGS } from './home.js';
import { VERSION } from './package-info.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/*
 * The systemd unit scripts/install-service.sh writes runs this checkout's built `gatehouse` with
 * an absolute node: a service manager's PATH has neither. Checked by running its command line.
 * Needs `npm run build` (scripts/test.sh builds first).
 */
it('installs a service unit whose command line is this checkout’s built gatehouse', () => {
  const unit = execFileSync('bash', ['scripts/install-service.sh', '--print'], { cwd: REPO, encoding: 'utf8' });
  const execStart = /^ExecStart="([^"]+)" (.*) "([^"]+)" daemon --quiet$/m.exec(unit);
  expect(execStart, unit).not.toBeNull();
  const [, node, flags, gatehouse] = execStart!;
  expect(flags!.split(' ')).toEqual(DAEMON_NODE_FLAGS);
  expect(node).toMatch(/^\//); // absolute
  expect(existsSync(gatehouse!)).toBe(true);
  expect(execFileSync(node!, [gatehouse!, '--version'], { encoding: 'utf8' }).trim()).toBe(VERSION);
});

const TEAM_UNIT = join(REPO, 'packaging/gatehoused-team.service');
const TEAM_ENV = join(REPO, 'packaging/gatehoused-team.env.example');
const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

/** `NAME=value` lines of an environment file, comments left out. */
const settings = (file: string) =>
  new Map(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
  );

describe('the team server unit (packaging/gatehoused-team.service)', () => {
  it('runs the checkout’s gatehouse with its settings file, the key-encryption key as a credential', () => {
    const unit = readFileSync(TEAM_UNIT, 'utf8');
    const execStart =
      /^ExecStart=\/usr\/bin\/node (.*) \/opt\/gatehouse\/(\S+) daemon --quiet --home \S+ \$GATEHOUSE_DAEMON_FLAGS$/m.exec(
        unit,
      );
    expect(execStart, unit).not.toBeNull();
    expect(execStart![1]!.split(' ')).toEqual(DAEMON_NODE_FLAGS);
    expect(existsSync(join(REPO, execStart![2]!))).toBe(true);
    expect(unit).toMatch(/^EnvironmentFile=\/etc\/gatehouse\/gatehoused-team\.env$/m);
    expect(unit).toMatch(/^Environment=GATEHOUSE_SECRET_STORE=database$/m);
    expect(unit).toMatch(/^LoadCredential=kek:\/etc\/gatehouse\/kek$/m);
    expect(unit).toMatch(/^Environment=GATEHOUSE_KEK_FILE=%d\/kek$/m);
  });

  it('has an example settings file of variables the daemon reads and flags it takes', () => {
    const example = settings(TEAM_ENV);
    expect([...example.keys()]).toEqual(expect.arrayContaining(['GATEHOUSE_DATABASE_URL', 'GATEHOUSE_DAEMON_FLAGS']));
    const source = ['daemon/src/config.ts', 'daemon/src/main.ts'].map((file) => readFileSync(join(REPO, file), 'utf8'));
    for (const name of example.keys())
      if (name !== 'GATEHOUSE_DAEMON_FLAGS')
        expect(
          source.some((text) => text.includes(name)),
          name,
        ).toBe(true);
    const help = execFileSync(process.execPath, ['--import', 'tsx', 'daemon/src/main.ts', 'daemon', '--help'], {
      cwd: REPO,
      encoding: 'utf8',
    });
    const flags = example.get('GATEHOUSE_DAEMON_FLAGS')!.match(/--[a-z-]+/g)!;
    expect(flags).toEqual(['--allow-remote', '--tls-cert', '--tls-key']);
    for (const flag of flags) expect(help).toContain(`${flag} `);
  });

  it.skipIf(!hasSystemdAnalyze)(
    'passes systemd-analyze verify, hardened to an exposure of 2.0 or less (needs systemd-analyze)',
    () => {
      const verify = spawnSync('systemd-analyze', ['verify', TEAM_UNIT], { encoding: 'utf8' });
      expect(verify.status, verify.stderr).toBe(0);
      expect(verify.stderr).toBe('');
      const security = execFileSync('systemd-analyze', ['security', '--offline=yes', TEAM_UNIT], { encoding: 'utf8' });
      const exposure = /Overall exposure level for \S+: ([\d.]+)/.exec(security);
      expect(Number(exposure![1])).toBeLessThanOrEqual(2);
    },
  );
});

describe('the Node flags the daemon is launched with (home.ts)', () => {
  it('are the launchd agent’s too', () => {
    const plist = readFileSync(join(REPO, 'packaging/dev.gatehouse.daemon.plist'), 'utf8');
    const program = [...plist.matchAll(/<string>([^<]*)<\/string>/g)].map((match) => match[1]);
    const node = program.indexOf('@NODE@');
    expect(program.slice(node + 1, node + 1 + DAEMON_NODE_FLAGS.length)).toEqual(DAEMON_NODE_FLAGS);
    expect(program[node + 1 + DAEMON_NODE_FLAGS.length]).toBe('@GATEHOUSE@');
  });

  it('are on the gatehouse command’s first line, so a daemon started by hand gets them too', () => {
    const bin = join(REPO, 'daemon/bin/gatehouse.js');
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${DAEMON_NODE_FLAGS.join(' ')}`);
    // Run as a program, through that line: it starts, and answers.
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toContain(VERSION);
  });

  it('are those scripts/start.sh runs gatehouse daemon with', () => {
    const start = readFileSync(join(REPO, 'scripts/start.sh'), 'utf8');
    const command = /^exec bash scripts\/with-keyring\.sh node (.*) daemon\/bin\/gatehouse\.js daemon "\$@"$/m.exec(
      start,
    );
    expect(command, start).not.toBeNull();
    expect(command![1]!.split(' ')).toEqual(DAEMON_NODE_FLAGS);
  });

  it('cap the young generation at 2 × 8 MB under an allocation load that grows it to 32 MB without them', () => {
    // Short-lived objects, a few thousand alive at a time: what requests leave behind.
    const load = `
      let alive = [];
      for (let i = 0; i < 3e6; i++) { alive.push({ i, text: 'x' + i }); if (alive.length > 20000) alive = []; }
      const space = require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
      console.log(space.physical_space_size / 1048576);`;
    const youngMb = (flags: readonly string[]) =>
      Number(execFileSync(process.execPath, [...flags, '-e', load], { encoding: 'utf8' }));
    expect(youngMb([])).toBeGreaterThan(16);
    expect(youngMb(DAEMON_NODE_FLAGS)).toBeLessThanOrEqual(16);
  });
});
