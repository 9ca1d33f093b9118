import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnGatehouse, waitForDaemon, type SpawnedDaemon } from '../../daemon/src/testing/spawn-daemon.js';
import { testKeychainService } from '../../daemon/src/testing/test-daemon.js';
import { DaemonSupervisor, isHealthy, type DaemonState, type SupervisorOptions } from './daemon-supervisor.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

let home: string;
let env: NodeJS.ProcessEnv;
let supervisor: DaemonSupervisor | undefined;
let external: SpawnedDaemon | undefined;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'gatehouse-supervisor-'));
  env = { ...process.env, GATEHOUSE_HOME: home, GATEHOUSE_KEYCHAIN_SERVICE: testKeychainService() };
});

afterEach(async () => {
  await supervisor?.stop();
  supervisor = undefined;
  if (external && external.child.exitCode === null) {
    external.child.kill('SIGKILL');
    await external.exited;
  }
  external = undefined;
  rmSync(home, { recursive: true, force: true });
});

/** The real daemon from source, as Electron main would fork it (one launch per call). */
function supervise(options: { port?: number; env?: NodeJS.ProcessEnv } & Partial<SupervisorOptions> = {}) {
  const launches: number[] = [];
  const { port = 0, env: extraEnv = {}, ...rest } = options;
  supervisor = new DaemonSupervisor({
    home,
    backoffMs: 50,
    watchIntervalMs: 200,
    launch: () => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(REPO, 'daemon/src/main.ts'), 'daemon', '--port', String(port), '--quiet'],
        { cwd: REPO, env: { ...env, ...extraEnv }, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      launches.push(child.pid!);
      return child;
    },
    ...rest,
  });
  const states: DaemonState['status'][] = [];
  supervisor.onChange((state) => states.push(state.status));
  return { supervisor, launches, states };
}

const healthy = (state: DaemonState) => {
  if (state.status !== 'healthy') throw new Error(`not healthy: ${JSON.stringify(state)}`);
  return state;
};

/** Resolves when the supervisor is (or next gets) in `status`. */
const reach = (supervisor: DaemonSupervisor, status: DaemonState['status']) =>
  new Promise<DaemonState>((resolve) => {
    if (supervisor.state.status === status) return resolve(supervisor.state);
    const off = supervisor.onChange((state) => {
      if (state.status !== status) return;
      off();
      resolve(state);
    });
  });

const processGone = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

describe('DaemonSupervisor', () => {
  it('starts the daemon, waits for /healthz, and on stop ends it and removes daemon.json', async () => {
    const { supervisor, launches, states } = supervise();
    const state = healthy(await supervisor.start());
    expect(state).toMatchObject({ attached: false, pid: launches[0] });
    expect(await isHealthy(state.url)).toBe(true);
    expect(existsSync(join(home, 'daemon.json'))).toBe(true);

    await supervisor.stop();
    expect(supervisor.state).toEqual({ status: 'stopped' });
    expect(states).toEqual(['starting', 'healthy', 'stopped']);
    expect(existsSync(join(home, 'daemon.json'))).toBe(false);
    expect(processGone(state.pid)).toBe(true);
  });

  it('restarts a daemon killed with SIGKILL', async () => {
    const { supervisor, launches, states } = supervise();
    const first = healthy(await supervisor.start());
    process.kill(first.pid, 'SIGKILL');
    await reach(supervisor, 'restarting');
    const second = healthy(await reach(supervisor, 'healthy'));
    expect(second.pid).not.toBe(first.pid);
    expect(launches).toEqual([first.pid, second.pid]);
    expect(states).toEqual(['starting', 'healthy', 'restarting', 'starting', 'healthy']);
    expect(await isHealthy(second.url)).toBe(true);
  });

  it('attaches to a live daemon of the same data dir, leaves it running on stop, takes over when it dies', async () => {
    external = spawnGatehouse(['daemon', '--port', '0', '--quiet'], env);
    const info = await waitForDaemon(home, external);
    const { supervisor, launches } = supervise();

    expect(await supervisor.start()).toMatchObject({ status: 'healthy', attached: true, pid: info.pid, url: info.url });
    expect(launches).toEqual([]);

    external.child.kill('SIGTERM');
    await external.exited;
    await reach(supervisor, 'restarting');
    const own = healthy(await reach(supervisor, 'healthy'));
    expect(own).toMatchObject({ attached: false, pid: launches[0] });
  });

  it('does not stop a daemon it attached to', async () => {
    external = spawnGatehouse(['daemon', '--port', '0', '--quiet'], env);
    const info = await waitForDaemon(home, external);
    const { supervisor } = supervise();
    await supervisor.start();
    expect(supervisor.canRestart).toBe(false);
    expect(await supervisor.restart()).toMatchObject({ status: 'healthy', attached: true, pid: info.pid });
    await supervisor.stop();
    expect(await isHealthy(info.url)).toBe(true);
  });

  it('restarts its own daemon: a new process, healthy again', async () => {
    const { supervisor, launches, states } = supervise();
    const first = healthy(await supervisor.start());
    expect(supervisor.canRestart).toBe(true);
    const second = healthy(await supervisor.restart());
    expect(second.pid).not.toBe(first.pid);
    expect(processGone(first.pid)).toBe(true);
    expect(launches).toEqual([first.pid, second.pid]);
    expect(states).toEqual(['starting', 'healthy', 'stopped', 'starting', 'healthy']);
  });

  describe('gives up with the reason', () => {
    let blocker: Server | undefined;
    afterEach(() => new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve())));

    it('when the port is in use, without retrying', async () => {
      blocker = createServer();
      await new Promise<void>((resolve) => blocker!.listen(0, '127.0.0.1', resolve));
      const { port } = blocker.address() as AddressInfo;
      const { supervisor, launches } = supervise({ port });

      const state = await supervisor.start();
      expect(state).toEqual({ status: 'failed', reason: expect.stringContaining(`Port ${port} is already in use`) });
      expect(launches).toHaveLength(1);
    });

    it('when no keychain is reachable', async () => {
      const { supervisor } = supervise({ env: { DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(home, 'no-bus')}` } });
      expect(await supervisor.start()).toEqual({
        status: 'failed',
        reason: expect.stringContaining('No OS keychain is reachable'),
      });
    });

    it('when the daemon program cannot be run', async () => {
      supervisor = new DaemonSupervisor({ home, launch: () => spawn(join(home, 'no-such-program'), []) });
      expect(await supervisor.start()).toEqual({
        status: 'failed',
        reason: expect.stringMatching(/^The daemon could not be run: .*ENOENT/),
      });
    });

    it('after repeated crashes within the window, and starts again on retry', async () => {
      const { supervisor, launches } = supervise({ maxCrashes: 2 });
      process.kill(healthy(await supervisor.start()).pid, 'SIGKILL');
      await reach(supervisor, 'restarting');
      process.kill(healthy(await reach(supervisor, 'healthy')).pid, 'SIGKILL');

      const failed = await reach(supervisor, 'failed');
      expect(failed).toEqual({
        status: 'failed',
        reason: 'The daemon stopped 2 times within 60 s; last: the daemon was killed (SIGKILL)',
      });
      expect(launches).toHaveLength(2);

      expect(await supervisor.retry()).toMatchObject({ status: 'healthy', pid: launches[2] });
    });
  });
});
