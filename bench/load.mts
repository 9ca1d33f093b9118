/*
 * The load generator, run as a child process of the runner (bench/lib/load.ts): autocannon never
 * shares an event loop with a server under test, nor with a second load running at the same time
 * (B8's flood). Reads its options as JSON from argv; prints MEASURING on a line of its own when the
 * measured load begins, then a LoadResult as JSON.
 */
import autocannon from 'autocannon';
import { MEASURING, type LoadOptions, type LoadResult } from './lib/load.js';

const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
const load = (seconds: number) =>
  autocannon({
    url: options.url,
    connections: options.connections,
    duration: seconds,
    ...(options.requests ? { requests: options.requests } : {}),
  });

// The warm-up (JIT, caches, connections) runs in the same process, and its figures are dropped.
if (options.warmupSeconds) await load(options.warmupSeconds);
process.stdout.write(`${MEASURING}\n`);
const result = await load(options.seconds);

const statusCodes: Record<string, number> = {};
for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = stats.count ?? 0;
const summary: LoadResult = {
  seconds: result.duration,
  requests: result.requests.total,
  ok: result['2xx'],
  // Successful answers per second: errors and refusals are not throughput.
  rps: result['2xx'] / result.duration,
  p50: result.latency.p50,
  p99: result.latency.p99,
  max: result.latency.max,
  errors: result.errors,
  timeouts: result.timeouts,
  statusCodes,
};
process.stdout.write(JSON.stringify(summary));
