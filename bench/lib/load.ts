import { spawn } from 'node:child_process';
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
}

/** Runs autocannon in a child process of its own and resolves with its summary. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', LOAD_SCRIPT, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(output) as LoadResult);
      else reject(new Error(`load generator exited with ${code}`));
    });
  });
}
