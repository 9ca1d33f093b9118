import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { percentile, processCpuMs } from './load.js';

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

export interface McpTarget {
  url: string;
  headers: Record<string, string>;
  tool: string;
  /** The server processes whose CPU is measured, by name. */
  pids: Record<string, number>;
}

/**
 * `sessions` SDK clients on `url` (each its own MCP session), each calling `tool` again as soon as
 * the last call answered, for `seconds` after `warmupSeconds`; latencies as each client sees them,
 * and what each server process of `pids` (by name) spent per call.
 */
export async function mcpLoad(
  options: McpTarget & { sessions: number; seconds: number; warmupSeconds: number },
): Promise<McpLoadResult> {
  const [result] = await mcpLoadsInTurn([options], options);
  return result!;
}

/**
 * As `mcpLoad` for each target at once, but taking turns a window of `windowSeconds` at a time
 * (the order turning each time) until each had `seconds`: so that a machine whose speed drifts
 * over a minute (a shared virtual machine's does) slows every target alike.
 */
export async function mcpLoadsInTurn(
  targets: McpTarget[],
  options: { sessions: number; seconds: number; warmupSeconds: number; windowSeconds?: number },
): Promise<McpLoadResult[]> {
  const sides = await Promise.all(targets.map((target) => openSessions(target, options.sessions)));
  try {
    for (const side of sides) await side.run(options.warmupSeconds);
    const window = Math.min(options.windowSeconds ?? options.seconds, options.seconds);
    for (let turn = 0; turn * window < options.seconds; turn++)
      for (const side of turn % 2 === 0 ? sides : [...sides].reverse()) await side.run(window, true);
    return sides.map((side) => side.result());
  } finally {
    await Promise.all(sides.map((side) => side.close()));
  }
}

async function openSessions(target: McpTarget, sessions: number) {
  const clients = await Promise.all(
    Array.from({ length: sessions }, async (_, index) => {
      const client = new Client({ name: `bench-${index}`, version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(target.url), { requestInit: { headers: target.headers } }),
      );
      return client;
    }),
  );
  const latencies: number[] = [];
  const cpuMs = Object.fromEntries(Object.keys(target.pids).map((name) => [name, 0]));
  let measuredMs = 0;
  const call = async (client: Client) => {
    const result = await client.callTool({ name: target.tool, arguments: { text: 'bench' } });
    if (result.isError) throw new Error(`${target.tool} failed: ${JSON.stringify(result.content)}`);
  };
  return {
    /** Every client calls for `seconds`; measured, their latencies and the servers' CPU are kept. */
    async run(seconds: number, measured = false): Promise<void> {
      const cpuAtStart = Object.entries(target.pids).map(([name, pid]) => [name, pid, processCpuMs(pid)] as const);
      const started = performance.now();
      const until = started + seconds * 1000;
      await Promise.all(
        clients.map(async (client) => {
          while (performance.now() < until) {
            const callStarted = performance.now();
            await call(client);
            if (measured) latencies.push(performance.now() - callStarted);
          }
        }),
      );
      if (!measured) return;
      measuredMs += performance.now() - started;
      for (const [name, pid, before] of cpuAtStart) cpuMs[name]! += processCpuMs(pid) - before;
    },
    result(): McpLoadResult {
      latencies.sort((a, b) => a - b);
      return {
        calls: latencies.length,
        rps: Math.round((latencies.length * 1000) / measuredMs),
        p50: percentile(latencies, 0.5),
        p99: percentile(latencies, 0.99),
        cpuUsPerCall: Object.fromEntries(
          Object.entries(cpuMs).map(([name, ms]) => [name, Math.round((ms * 1000) / latencies.length)]),
        ),
      };
    },
    close: () => Promise.all(clients.map((client) => client.close().catch(() => undefined))),
  };
}
