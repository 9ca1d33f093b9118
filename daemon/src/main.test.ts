import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { currentLogFile } from './home.js';
import { spawnGatehouse, waitForDaemon, type SpawnedDaemon } from './testing/spawn-daemon.js';
import { testKeychainService } from './testing/test-daemon.js';
import { testDatabaseServer } from './testing/test-database.js';

/** `gatehouse daemon` as a real child process: discovery file, signals, and one-line start-up failures. */
describe('gatehouse daemon (process lifecycle)', () => {
  const homes: string[] = [];
  const children: SpawnedDaemon[] = [];
  const newHome = () => {
    const home = mkdtempSync(join(tmpdir(), 'gatehouse-main-'));
    homes.push(home);
    return home;
  };
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const spawned = spawnGatehouse(['daemon', '--quiet', ...args], {
      GATEHOUSE_KEYCHAIN_SERVICE: testKeychainService(),
      ...env,
    });
    children.push(spawned);
    return spawned;
  };

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.child.exitCode === null && child.child.signalCode === null) {
        child.child.kill('SIGKILL');
        await child.exited;
      }
    }
    for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
  });

  it('writes daemon.json (0600) while running and removes it on SIGTERM', async () => {
    const home = newHome();
    const daemon = run(['--home', home, '--port', '0']);
    const info = await waitForDaemon(home, daemon);

    expect(info).toMatchObject({ pid: daemon.child.pid, url: `http://127.0.0.1:${info.port}` });
    expect(info.port).toBeGreaterThan(0);
    expect(Date.parse(info.startedAt)).not.toBeNaN();
    expect(statSync(join(home, 'daemon.json')).mode & 0o777).toBe(0o600);
    // On PostgreSQL (GATEHOUSE_TEST_DATABASE_URL) the data is in the server's database instead.
    if (!testDatabaseServer()) expect(statSync(join(home, 'gatehouse.db')).mode & 0o777).toBe(0o600);

    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    expect(existsSync(join(home, 'daemon.json'))).toBe(false);
  });

  it('tells a person on stdout, in one line, where it listens, where data and secrets are, and the console', async () => {
    const home = newHome();
    const daemon = spawnGatehouse(['daemon', '--home', home, '--port', '0'], {
      GATEHOUSE_KEYCHAIN_SERVICE: testKeychainService(),
    });
    children.push(daemon);
    let stdout = '';
    daemon.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const info = await waitForDaemon(home, daemon);
    await expect.poll(() => stdout.length).toBeGreaterThan(0);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);

    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/^\{/);
    expect(lines[0]).toContain(`listening on ${info.url}`);
    expect(lines[0]).toContain(`console at ${info.url}/`);
    expect(lines[0]).toContain(home);
    expect(lines[0]).toMatch(/secrets in the .*keychain/);
    // The JSON lines, Fastify's own included, went to the log file instead.
    expect(readFileSync(currentLogFile(home), 'utf8')).toContain('Server listening at');
  });

  it('finishes an in-flight request before exiting on SIGTERM', async () => {
    const home = newHome();
    const daemon = run(['--home', home, '--port', '0']);
    const info = await waitForDaemon(home, daemon);

    // Setup hashes a password with scrypt: the request is still running when the signal lands.
    const pending = fetch(`${info.url}/auth/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'correct horse battery staple' }),
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    daemon.child.kill('SIGTERM');

    expect((await pending).status).toBe(201);
    expect(await daemon.exited).toBe(0);
  });

  it('replaces a stale daemon.json left by a killed daemon, and keeps its data', async () => {
    const home = newHome();
    const keychain = { GATEHOUSE_KEYCHAIN_SERVICE: testKeychainService() };
    const first = run(['--home', home, '--port', '0'], keychain);
    const firstInfo = await waitForDaemon(home, first);
    const setup = await fetch(`${firstInfo.url}/auth/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'correct horse battery staple' }),
    });
    expect(setup.status).toBe(201);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(existsSync(join(home, 'daemon.json'))).toBe(true);

    const second = run(['--home', home, '--port', '0'], keychain);
    const secondInfo = await waitForDaemon(home, second);
    expect(secondInfo.pid).toBe(second.child.pid);
    const needsSetup = await (await fetch(`${secondInfo.url}/auth/setup`)).json();
    expect(needsSetup).toEqual({ needs_setup: false });
  });

  it('replaces a daemon.json whose pid now belongs to another program', async () => {
    const home = newHome();
    // This test runner is alive, but listens on nothing: the pid was reused, the daemon is gone.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const stale = { pid: process.pid, port, url: `http://127.0.0.1:${port}`, version: '0.1.0', startedAt: '' };
    writeFileSync(join(home, 'daemon.json'), JSON.stringify(stale));

    const daemon = run(['--home', home, '--port', '0']);
    const info = await waitForDaemon(home, daemon);
    expect(info.pid).toBe(daemon.child.pid);
  });

  it('refuses a second daemon on the same data dir with one line and exit code 1', async () => {
    const home = newHome();
    const first = run(['--home', home, '--port', '0']);
    const info = await waitForDaemon(home, first);

    const second = run(['--home', home, '--port', '0']);
    expect(await second.exited).toBe(1);
    expect(second.output().trim()).toBe(
      `gatehoused: gatehoused is already running for ${home} (pid ${info.pid}, ${info.url}).`,
    );
  });

  it('says the port is in use in one line, without a stack trace, and exits 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const daemon = run(['--home', newHome(), '--port', String(port)]);
      expect(await daemon.exited).toBe(1);
      const lines = daemon.output().trim().split('\n');
      expect(lines).toEqual([
        `gatehoused: Port ${port} is already in use. Stop the other program, or start with --port <n> (0 picks a free port).`,
      ]);
    } finally {
      blocker.close();
    }
  });

  it('says the data dir cannot be written in one line and exits 1', async () => {
    const file = join(newHome(), 'not-a-directory');
    writeFileSync(file, '');
    const daemon = run(['--home', join(file, 'home'), '--port', '0']);
    expect(await daemon.exited).toBe(1);
    expect(daemon.output().trim()).toMatch(
      /^gatehoused: The data directory .*not-a-directory\/home cannot be written \(ENOTDIR\)\. Choose another with --home or GATEHOUSE_HOME\.$/,
    );
  });

  it('without a reachable keychain, says so with the way out and exits 1', async () => {
    const daemon = run(['--home', newHome(), '--port', '0'], { DBUS_SESSION_BUS_ADDRESS: '', DISPLAY: '' });
    expect(await daemon.exited).toBe(1);
    const output = daemon.output().trim();
    expect(output.split('\n')).toHaveLength(1);
    expect(output).toMatch(
      /^gatehoused: No OS keychain is reachable \(.+\)\..*--secret-store=file and GATEHOUSE_PASSPHRASE/,
    );
  });

  it('runs on the encrypted-file store without a keychain', async () => {
    const home = newHome();
    const daemon = run(['--home', home, '--port', '0', '--secret-store', 'file'], {
      DBUS_SESSION_BUS_ADDRESS: '',
      DISPLAY: '',
      GATEHOUSE_PASSPHRASE: 'a long test passphrase',
    });
    const info = await waitForDaemon(home, daemon);
    const status = (await (await fetch(`${info.url}/v1/status`)).json()) as { keychain: { backend: string } };
    expect(status.keychain.backend).toBe('file');
    expect(readFileSync(join(home, 'secrets.enc'), 'utf8')).not.toContain('daemon-signing-key');
  });

  it('prints help with exit 0 and refuses an unknown option with exit 2', async () => {
    const help = spawnGatehouse(['daemon', '--help'], {});
    expect(await help.exited).toBe(0);
    expect(help.output()).toContain('--secret-store <kind>');

    const wrong = spawnGatehouse(['daemon', '--no-such-flag'], {});
    expect(await wrong.exited).toBe(2);
    expect(wrong.output()).toContain("unknown option '--no-such-flag'");
  });
});
