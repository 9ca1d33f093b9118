import type { Readable } from 'node:stream';
import type { DiscoveryFile } from '@gatehouse/shared';
import { readDiscovery } from '@gatehouse/daemon/home';

/** What the window, the tray and the error screen show about the daemon. */
export type DaemonState =
  | { status: 'starting' }
  | { status: 'healthy'; url: string; pid: number; version: string; attached: boolean }
  | { status: 'restarting'; reason: string; attempt: number; delayMs: number }
  | { status: 'failed'; reason: string }
  | { status: 'stopped' };

/** The part of a child process the supervisor uses (`child_process.fork`/`spawn` return one). */
export interface DaemonProcess {
  readonly pid?: number | undefined;
  readonly stderr: Readable | null;
  kill(signal?: NodeJS.Signals): boolean;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  once(event: 'error', listener: (error: Error) => void): unknown;
}

export interface SupervisorOptions {
  /** The data directory the daemon serves (its `daemon.json` lives there). */
  home: string;
  /** Starts `gatehouse daemon` for `home`: under Electron's Node in the app, under Node in tests. */
  launch: () => DaemonProcess;
  /** This many crashes within `crashWindowMs` and the supervisor gives up. */
  maxCrashes?: number;
  crashWindowMs?: number;
  /** The first restart waits this long; each further one twice as long, up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  startTimeoutMs?: number;
  /** After SIGTERM, how long the daemon may take (it finishes in-flight requests) before SIGKILL. */
  stopTimeoutMs?: number;
  /** How often an attached daemon (one we did not start) is checked. */
  watchIntervalMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** A daemon that already serves `home` and answers `/healthz` (started by the CLI, or an earlier app). */
export async function findLiveDaemon(home: string): Promise<DiscoveryFile | null> {
  const info = readDiscovery(home);
  return info && (await isHealthy(info.url)) ? info : null;
}

/**
 * Why the daemon stopped, in one line. On a startup failure gatehoused prints one line
 * `gatehoused: <what went wrong and the way out>` (port in use, keychain unreachable…).
 */
export function exitReason(stderr: string, code: number | null, signal: NodeJS.Signals | null): string {
  const lines = stderr.split('\n').map((line) => line.trim());
  const said = lines.filter((line) => line.startsWith('gatehoused: ')).at(-1);
  if (said) return said.slice('gatehoused: '.length);
  return signal ? `the daemon was killed (${signal})` : `the daemon exited with code ${code}`;
}

/**
 * Keeps one gatehoused running for the desktop app (SPEC §1): attaches to a live daemon of the
 * same data directory, or starts one and waits for `/healthz`; restarts it with exponential
 * backoff when it dies, and gives up (state `failed`, with the reason) after repeated crashes or
 * when the daemon refuses to start — retrying cannot fix a port in use or a locked keychain, so
 * the user is shown the way out instead. Plain Node: Electron main injects the launcher.
 */
export class DaemonSupervisor {
  #state: DaemonState = { status: 'stopped' };
  readonly #listeners = new Set<(state: DaemonState) => void>();
  readonly #options: Required<SupervisorOptions>;
  #child: { process: DaemonProcess; exited: Promise<void> } | undefined;
  #crashes: number[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** Bumped by stop() and retry(): work still in flight from an earlier run then does nothing. */
  #run = 0;

  constructor(options: SupervisorOptions) {
    this.#options = {
      maxCrashes: 3,
      crashWindowMs: 60_000,
      backoffMs: 500,
      maxBackoffMs: 10_000,
      startTimeoutMs: 30_000,
      stopTimeoutMs: 12_000,
      watchIntervalMs: 3000,
      ...options,
    };
  }

  get state(): DaemonState {
    return this.#state;
  }

  /** The daemon's URL while it is healthy. */
  get url(): string | null {
    return this.#state.status === 'healthy' ? this.#state.url : null;
  }

  /** Calls `listener` on every state change; returns the unsubscribe function. */
  onChange(listener: (state: DaemonState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves with the next state that ends a start: healthy, failed or stopped. */
  settled(): Promise<DaemonState> {
    if (this.#state.status === 'healthy' || this.#state.status === 'failed') return Promise.resolve(this.#state);
    return new Promise((resolve) => {
      const off = this.onChange((state) => {
        if (state.status === 'healthy' || state.status === 'failed' || state.status === 'stopped') {
          off();
          resolve(state);
        }
      });
    });
  }

  /** Starts (or attaches); resolves once the daemon is healthy or the supervisor gave up. */
  start(): Promise<DaemonState> {
    if (this.#state.status !== 'stopped' && this.#state.status !== 'failed') return this.settled();
    this.#crashes = [];
    this.#set({ status: 'starting' });
    const settled = this.settled();
    void this.#begin(++this.#run);
    return settled;
  }

  /** Whether `restart` can do anything: a daemon we attached to is not ours to restart. */
  get canRestart(): boolean {
    return !(this.#state.status === 'healthy' && this.#state.attached);
  }

  /**
   * Stops the daemon we started and starts it again (Settings, the tray and the menu). An
   * attached daemon is left alone: stopping it would do nothing and the start would re-attach.
   */
  async restart(): Promise<DaemonState> {
    if (!this.canRestart) return this.#state;
    await this.stop();
    return this.start();
  }

  /** From the error screen: forget earlier crashes and start again. */
  retry(): Promise<DaemonState> {
    return this.start();
  }

  /** Stops a daemon we started (SIGTERM, SIGKILL after the timeout); an attached one keeps running. */
  async stop(): Promise<void> {
    this.#run++;
    clearTimeout(this.#timer);
    const child = this.#child;
    this.#child = undefined;
    if (child) {
      child.process.kill('SIGTERM');
      const gone = await Promise.race([child.exited.then(() => true), sleep(this.#options.stopTimeoutMs)]);
      if (!gone) {
        child.process.kill('SIGKILL');
        await child.exited;
      }
    }
    this.#set({ status: 'stopped' });
  }

  #set(state: DaemonState): void {
    this.#state = state;
    for (const listener of this.#listeners) listener(state);
  }

  async #begin(run: number): Promise<void> {
    if (this.#state.status !== 'starting') this.#set({ status: 'starting' });
    const live = await findLiveDaemon(this.#options.home);
    if (run !== this.#run) return;
    if (live) {
      this.#set({ status: 'healthy', url: live.url, pid: live.pid, version: live.version, attached: true });
      this.#watchAttached(run, live.url);
    } else {
      await this.#spawn(run);
    }
  }

  async #spawn(run: number): Promise<void> {
    const process = this.#options.launch();
    let stderr = '';
    process.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8192)));
    let healthy = false;
    let exited = false;
    const exit = new Promise<void>((resolve) =>
      process.once('exit', (code, signal) => {
        exited = true;
        resolve();
        if (this.#child?.process !== process) return; // stopped on purpose, or an earlier run
        this.#child = undefined;
        const reason = exitReason(stderr, code, signal);
        // Exit code 1 before ever being healthy: gatehoused refused to start and said why.
        if (!healthy && code === 1) this.#set({ status: 'failed', reason });
        else this.#crashed(run, reason);
      }),
    );
    // The program itself could not be run (a broken install): no exit follows, and retrying cannot help.
    process.once('error', (error) => {
      if (this.#child?.process !== process) return;
      this.#child = undefined;
      exited = true;
      this.#set({ status: 'failed', reason: `The daemon could not be run: ${error.message}` });
    });
    this.#child = { process, exited: exit };

    const deadline = Date.now() + this.#options.startTimeoutMs;
    while (!exited && run === this.#run) {
      const info = readDiscovery(this.#options.home);
      if (info && info.pid === process.pid && (await isHealthy(info.url))) {
        if (exited || run !== this.#run) return;
        healthy = true;
        this.#set({ status: 'healthy', url: info.url, pid: info.pid, version: info.version, attached: false });
        return;
      }
      if (Date.now() > deadline) {
        stderr += `\ngatehoused: did not answer /healthz within ${this.#options.startTimeoutMs / 1000} s`;
        process.kill('SIGKILL');
        return;
      }
      await sleep(100);
    }
  }

  /** A daemon we did not start has no exit event: poll it, and take over when it is gone. */
  #watchAttached(run: number, url: string): void {
    this.#timer = setTimeout(async () => {
      if (run !== this.#run) return;
      if (await isHealthy(url)) this.#watchAttached(run, url);
      else if (run === this.#run) this.#crashed(run, `the daemon at ${url} stopped answering`);
    }, this.#options.watchIntervalMs);
  }

  #crashed(run: number, reason: string): void {
    if (run !== this.#run) return;
    const now = Date.now();
    this.#crashes = [...this.#crashes.filter((at) => now - at < this.#options.crashWindowMs), now];
    const attempt = this.#crashes.length;
    if (attempt >= this.#options.maxCrashes) {
      const seconds = Math.round(this.#options.crashWindowMs / 1000);
      this.#set({
        status: 'failed',
        reason: `The daemon stopped ${attempt} times within ${seconds} s; last: ${reason}`,
      });
      return;
    }
    const delayMs = Math.min(this.#options.backoffMs * 2 ** (attempt - 1), this.#options.maxBackoffMs);
    this.#set({ status: 'restarting', reason, attempt, delayMs });
    this.#timer = setTimeout(() => void this.#begin(run), delayMs);
  }
}
