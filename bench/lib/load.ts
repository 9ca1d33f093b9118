import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Request } from 'autocannon';

const LOAD_SCRIPT = fileURLToPath(new URL('../load.mts', import.meta.url));

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  /** A load of this many seconds first, not measured. */
  warmupSeconds?: number;
  /** The requests each connection sends in turn (method, path, headers, body). */
  requests?: Request[];
}

export interface LoadResult {
  seconds: number;
  requests: number;
  /** 2xx answers. */
  ok: number;
  /** 2xx answers per second. */
  rps: number;
  /** Latency in milliseconds (autocannon's histogram has 1 ms resolution). */
  p50: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /**
   * CPU time the server's process used per request during the measured load, in µs (user +
   * system, every thread): given when `runLoad` was told the server's pid.
   */
  serverCpuUs?: number;
}

/** The line the load generator prints when its warm-up is over and the measured load begins. */
export const MEASURING = 'measuring';

/**
 * CPU time of a process so far (user + system, every thread), in ms: fields 14 and 15 of
 * /proc/<pid>/stat, in clock ticks of 10 ms (Linux's USER_HZ on every common architecture).
 */
export function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Runs autocannon in a child process of its own and resolves with its summary; with the server's
 * `serverPid`, also what the server spent per request while the measured load ran.
 */
export function runLoad(options: LoadOptions, serverPid?: number): Promise<LoadResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', LOAD_SCRIPT, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  let cpuAtStart: number | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (serverPid !== undefined && cpuAtStart === undefined && output.startsWith(`${MEASURING}\n`))
      cpuAtStart = processCpuMs(serverPid);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      const result = JSON.parse(output.slice(MEASURING.length + 1)) as LoadResult;
      if (cpuAtStart !== undefined)
        result.serverCpuUs = ((processCpuMs(serverPid!) - cpuAtStart) * 1000) / result.requests;
      resolve(result);
    });
  });
}

/** Latencies of one connection sending each request as soon as the last one was answered, in ms. */
export interface SequentialLatency {
  requests: number;
  p50: number;
  p99: number;
}

/**
 * One keep-alive connection (undici) sending `request` again as soon as it is answered, for
 * `seconds` after `warmupSeconds`: what a request costs when nothing queues for the CPU, timed to
 * the microsecond (autocannon's histogram has 1 ms resolution). Every answer must be a 2xx.
 */
export async function sequentialLatency(options: {
  url: string;
  request: Request;
  seconds: number;
  warmupSeconds: number;
}): Promise<SequentialLatency> {
  const { Pool } = await import('undici');
  const pool = new Pool(options.url, { connections: 1 });
  const { method = 'GET', path = '/', headers, body } = options.request;
  const send = async () => {
    const answer = await pool.request({ method: method as 'GET', path, headers, body: body as string | undefined });
    await answer.body.dump();
    if (answer.statusCode < 200 || answer.statusCode >= 300)
      throw new Error(`${method} ${path}: ${answer.statusCode}, not a 2xx`);
  };
  const run = async (seconds: number, latencies: number[] | null) => {
    for (const until = performance.now() + seconds * 1000; performance.now() < until;) {
      const started = performance.now();
      await send();
      latencies?.push(performance.now() - started);
    }
  };
  try {
    await run(options.warmupSeconds, null);
    const latencies: number[] = [];
    await run(options.seconds, latencies);
    latencies.sort((a, b) => a - b);
    return { requests: latencies.length, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
  } finally {
    await pool.close();
  }
}

/** The `p` quantile of `sorted` latencies, in ms to the microsecond. */
export function percentile(sorted: number[], p: number): number {
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! * 1000) / 1000;
}
