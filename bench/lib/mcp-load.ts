import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { processCpuMs } from './load.js';

export interface McpUpstream {
  url: string;
  pid: number;
  stop(): void;
}

/** Starts bench/mcp-upstream-server.mts in a process of its own. */
export async function startMcpUpstream(): Promise<McpUpstream> {
  const path = fileURLToPath(new URL('../mcp-upstream-server.mts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`the MCP upstream exited (${code})`)));
    child.stdout.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { url: string }).url));
  });
  return { url, pid: child.pid!, stop: () => child.kill('SIGTERM') };
}

export interface McpLoadResult {
  calls: number;
  /** Calls per second, over every session. */
  rps: number;
  p50: number;
  p99: number;
  /** CPU time (user + system) each process named in `pids` used per call during the measured load, in µs. */
  cpuUsPerCall: Record<string, number>;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const round = (n: number) => Math.round(n * 1000) / 1000;

/**
 * `sessions` SDK clients on `url` (each its own MCP session), each calling `tool` again as soon as
 * the last call answered, for `seconds` after `warmupSeconds`; latencies as each client sees them,
 * and what each server process of `pids` (by name) spent per call.
 */
export async function mcpLoad(options: {
  url: string;
  headers: Record<string, string>;
  tool: string;
  sessions: number;
  seconds: number;
  warmupSeconds: number;
  pids: Record<string, number>;
}): Promise<McpLoadResult> {
  const clients = await Promise.all(
    Array.from({ length: options.sessions }, async (_, index) => {
      const client = new Client({ name: `bench-${index}`, version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(options.url), { requestInit: { headers: options.headers } }),
      );
      return client;
    }),
  );
  const call = async (client: Client) => {
    const result = await client.callTool({ name: options.tool, arguments: { text: 'bench' } });
    if (result.isError) throw new Error(`${options.tool} failed: ${JSON.stringify(result.content)}`);
  };
  const run = async (seconds: number, latencies: number[] | null) => {
    const until = performance.now() + seconds * 1000;
    await Promise.all(
      clients.map(async (client) => {
        while (performance.now() < until) {
          const started = performance.now();
          await call(client);
          latencies?.push(performance.now() - started);
        }
      }),
    );
  };
  try {
    await run(options.warmupSeconds, null);
    const latencies: number[] = [];
    const cpuAtStart = Object.entries(options.pids).map(([name, pid]) => [name, pid, processCpuMs(pid)] as const);
    const started = performance.now();
    await run(options.seconds, latencies);
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      calls: latencies.length,
      rps: Math.round(latencies.length / elapsed),
      p50: round(percentile(latencies, 0.5)),
      p99: round(percentile(latencies, 0.99)),
      cpuUsPerCall: Object.fromEntries(
        cpuAtStart.map(([name, pid, before]) => [
          name,
          Math.round(((processCpuMs(pid) - before) * 1000) / latencies.length),
        ]),
      ),
    };
  } finally {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  }
}
