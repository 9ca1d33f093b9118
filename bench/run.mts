/*
 * `npm run bench [-- --quick] [-- --only B1,B3] [-- --profile]`: the daemon against bare Fastify and a plain
 * node:http baseline, side by side in one run (see bench/README.md). Run inside a private
 * keyring (the npm script does it), so key creation (B7) writes to a real Secret Service.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import keytar from 'keytar';
import sqlite3 from 'sqlite3';
import type { Request } from 'autocannon';
import type { QueryRunner } from 'typeorm';
import { routes } from '@gatehouse/shared';
import { startBaseline, startFrameworkFloor, startProxyFloor } from './lib/baseline.js';
import {
  benchKeychainService,
  expectStatus,
  login,
  REPO,
  setupAdmin,
  startDaemon,
  type BenchDaemon,
} from './lib/daemon.js';
import { processCpuMs, runLoad, sequentialLatency, type LoadResult, type SequentialLatency } from './lib/load.js';
import { mcpLoad, mcpLoadsInTurn, startMcpUpstream, type McpLoadResult, type McpTarget } from './lib/mcp-load.js';
import { machine, markdown, round, thousands, writeResults, type Row } from './lib/report.js';
import { addActivity, CACHE_DIR, SeededBytes, seededDatabase, seedPostgresAgents } from './lib/seed.js';
import { createTestDatabase } from '../daemon/src/testing/test-database.js';
import { OverviewIndexes1795399400000 } from '../daemon/src/storage/migrations/0013-overview-indexes.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const profile = args.includes('--profile');
const onlyArg = args.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
const only = onlyArg ? new Set(onlyArg.split(',')) : null;
const wanted = (id: string) => only === null || only.has(id);

const settings = quick
  ? {
      seconds: 2,
      warmup: 1,
      rounds: 1,
      turns: 3,
      turnSeconds: 1,
      agents: 10_000,
      pgAgents: 100_000,
      coldStarts: 3,
      keys: 24,
      listConnections: 8,
      auditEvents: 100_000,
      appendedEvents: 10_000,
      overviewSamples: 5,
      soakSeconds: 40,
    }
  : {
      seconds: 10,
      warmup: 3,
      rounds: 3,
      turns: 10,
      turnSeconds: 2,
      agents: 100_000,
      pgAgents: 1_000_000,
      coldStarts: 5,
      keys: 160,
      listConnections: 8,
      soakSeconds: 180,
      auditEvents: 1_000_000,
      appendedEvents: 50_000,
      overviewSamples: 15,
    };
/** How often B11 samples the daemon's RSS. */
const RSS_SAMPLE_MS = 2000;
const CONNECTIONS = 64;
/** How B0–B3 share the machine between the servers they compare (see `compare`). */
const IN_TURNS = `${CONNECTIONS} connections, ${settings.turns} turns of ${settings.turnSeconds} s`;
const PARALLEL_KEYS = 8;

const log = (line: string) => console.error(`bench: ${line}`);
const rows: Row[] = [];
const details: Record<string, unknown> = {};
const notes: string[] = [];
const homes: string[] = [];
const newHome = () => {
  const home = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  homes.push(home);
  return home;
};
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** A database's statements, one at a time, on a connection of its own. */
function openSqlite(path: string) {
  const db = new sqlite3.Database(path);
  return {
    query: (sql: string, params: unknown[] = []) =>
      new Promise<void>((resolve, reject) => db.run(sql, params, (e) => (e ? reject(e) : resolve()))),
    close: () => new Promise<void>((resolve, reject) => db.close((e) => (e ? reject(e) : resolve()))),
  };
}

/** Migration 0013's own `down`, on a copy: the overview's reads as they were before its indexes. */
async function undoOverviewIndexes(path: string): Promise<void> {
  const db = openSqlite(path);
  await new OverviewIndexes1795399400000().down(db as unknown as QueryRunner);
  // The refused-agents count names its index (INDEXED BY): under that name, the one the project's
  // events had before, so the query runs with the plan it had before 0013.
  await db.query(`CREATE INDEX audit_events_refusals ON audit_events (project_id, sequence_number)`);
  await db.close();
}

/** Milliseconds to append `count` audit events (a brokered call's, one in ten refused) in one transaction. */
async function timeAppend(path: string, count: number): Promise<number> {
  const db = openSqlite(path);
  const started = performance.now();
  await db.query('BEGIN');
  for (let i = 0; i < count; i++) {
    await db.query(
      `INSERT INTO audit_events (at, event_type, actor, agent_id, target, project_id, outcome, metadata, entry_hash)
       VALUES (?, 'connection.called', 'agent:bench', ?, 'connection:bench', 'bench-project', ?, '{}', ?)`,
      [new Date().toISOString(), `agent-${i % 1000}`, i % 10 === 3 ? 'failure' : 'success', `sha256:append-${i}`],
    );
  }
  await db.query('COMMIT');
  const elapsed = performance.now() - started;
  await db.close();
  return elapsed;
}
const ms = (n: number) => `${round(n, 1)} ms`;
const rps = (result: LoadResult) => `${thousands(result.rps)} req/s`;
const latency = (result: LoadResult) => `p50 ${result.p50} ms, p99 ${result.p99} ms`;

const host = machine();
log(`${quick ? 'quick' : 'full'} run on ${host.cores} × ${host.cpuModel}, Node ${host.node}`);

// The daemon under test is the built bundle (out/main/daemon.js, what `gatehouse daemon` runs):
// build it from the current sources first, unless another build is named (GATEHOUSE_BENCH_COMMAND).
if (process.env.GATEHOUSE_BENCH_COMMAND) {
  log(`the daemon is ${process.env.GATEHOUSE_BENCH_COMMAND} (GATEHOUSE_BENCH_COMMAND): not building`);
} else {
  const build = spawnSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('the build failed (npm run build); the bench measures the built daemon');
}

const baseline = await startBaseline();
const floor = await startFrameworkFloor();
const cpuProfileDir = join(CACHE_DIR, 'profiles');
const keychainService = benchKeychainService();

interface Comparison {
  /** Each server's turns taken together (see `pooled`). */
  baseline: LoadResult;
  daemon: LoadResult;
  /**
   * Daemon ÷ what it is judged against (bare Fastify where it ran, as issue 20 sets it, else the
   * baseline): the median of the turns' ratios.
   */
  ratio: number;
  against: 'bare Fastify' | 'baseline';
  /** Daemon ÷ the raw node:http baseline, reported beside (the median of the turns'). */
  baselineRatio: number;
  /** Every turn's req/s per server, in the order run. */
  rounds: Array<{ baseline: number; floor?: number; daemon: number }>;
  /** Server CPU time per request over all turns, µs: where a ratio's difference goes. */
  cpuUs: { baseline: number; floor?: number; daemon: number };
  bytes: number;
  /** Bare Fastify with the same answer, serialised the daemon's way (throughput scenarios). */
  floor?: { result: LoadResult; ratio: number };
}

/**
 * Runs the same load against the baseline (answering with the daemon's own body), the framework
 * floor when the route's response schema is given, and the daemon, taking turns: each server is
 * warmed up once, then loaded for a short turn after the other, `turns` times, the order
 * rotating. This machine's speed drifts by up to 2× within minutes; a turn's servers meet the
 * same machine, so each turn gives a ratio, and the median turn's ratio is reported.
 */
async function compare(
  daemon: BenchDaemon,
  request: Request & { path: string },
  { turns = settings.turns, seconds = settings.turnSeconds, ...options }: CompareOptions = {},
): Promise<Comparison> {
  const body = await baselineAnswersAsDaemon(daemon, request);
  if (options.schema) await floor.answerWith(body, options.schema);

  const measure = async ({ url, pid }: { url: string; pid: number }, warmupSeconds: number) => {
    const result = await runLoad(
      {
        url,
        connections: options.connections ?? CONNECTIONS,
        seconds,
        warmupSeconds,
        requests: [request],
      },
      pid,
    );
    if (result.ok !== result.requests || result.errors > 0)
      throw new Error(`${url}${request.path}: not every answer was a 2xx: ${JSON.stringify(result)}`);
    return result;
  };
  const servers = { baseline, ...(options.schema ? { floor } : {}), daemon };
  const names = Object.keys(servers) as Array<keyof typeof servers>;
  const rounds: Array<Partial<Record<keyof typeof servers, LoadResult>>> = [];
  for (let turn = 0; turn < turns; turn++) {
    const results: (typeof rounds)[number] = {};
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + turn) % names.length]!;
      results[name] = await measure(servers[name]!, turn === 0 ? settings.warmup : 0);
    }
    rounds.push(results);
  }
  // Judged against bare Fastify where it ran: the framework floor the daemon is built on.
  const ratioOf = (result: (typeof rounds)[number]) => result.daemon!.rps / (result.floor ?? result.baseline)!.rps;
  const all = (name: keyof typeof servers) => pooled(rounds.map((result) => result[name]!));
  const daemonResult = all('daemon');
  const baselineResult = all('baseline');
  const floorResult = options.schema ? all('floor') : undefined;
  return {
    baseline: baselineResult,
    daemon: daemonResult,
    ratio: median(rounds.map(ratioOf)),
    against: floorResult ? 'bare Fastify' : 'baseline',
    baselineRatio: median(rounds.map((result) => result.daemon!.rps / result.baseline!.rps)),
    rounds: rounds.map(({ baseline, floor, daemon }) => ({
      baseline: round(baseline!.rps),
      ...(floor ? { floor: round(floor.rps) } : {}),
      daemon: round(daemon!.rps),
    })),
    cpuUs: {
      baseline: round(baselineResult.serverCpuUs!, 1),
      ...(floorResult ? { floor: round(floorResult.serverCpuUs!, 1) } : {}),
      daemon: round(daemonResult.serverCpuUs!, 1),
    },
    bytes: Buffer.byteLength(body),
    ...(floorResult
      ? { floor: { result: floorResult, ratio: median(rounds.map((r) => r.floor!.rps / r.baseline!.rps)) } }
      : {}),
  };
}

/** Sets the baseline to answer with the daemon's own answer to `request` (a 200); returns that body. */
async function baselineAnswersAsDaemon(daemon: BenchDaemon, request: Request & { path: string }): Promise<string> {
  const sample = await fetch(daemon.url + request.path, {
    method: request.method ?? 'GET',
    headers: request.headers as Record<string, string>,
    ...(request.body ? { body: request.body } : {}),
  });
  const body = await sample.text();
  if (sample.status !== 200) throw new Error(`${request.method ?? 'GET'} ${request.path}: ${sample.status} ${body}`);
  await baseline.answerWith(body);
  return body;
}

interface CompareOptions {
  connections?: number;
  /** The route's response schema: bare Fastify answers through it, and the daemon is judged against it. */
  schema?: unknown;
  turns?: number;
  /** Each turn's length. */
  seconds?: number;
}

/**
 * One server's turns as one load: their requests and time added up (so req/s and CPU per request
 * are over every turn), and the median of the turns' p50 and p99 (autocannon gives each turn's
 * percentiles, not its histogram).
 */
function pooled(turns: LoadResult[]): LoadResult {
  const sum = (of: (turn: LoadResult) => number) => turns.reduce((total, turn) => total + of(turn), 0);
  const seconds = sum((turn) => turn.seconds);
  const requests = sum((turn) => turn.requests);
  const ok = sum((turn) => turn.ok);
  const statusCodes: Record<string, number> = {};
  for (const turn of turns)
    for (const [code, count] of Object.entries(turn.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
  return {
    seconds,
    requests,
    ok,
    rps: ok / seconds,
    p50: median(turns.map((turn) => turn.p50)),
    p99: median(turns.map((turn) => turn.p99)),
    max: Math.max(...turns.map((turn) => turn.max)),
    errors: sum((turn) => turn.errors),
    timeouts: sum((turn) => turn.timeouts),
    statusCodes,
    ...(turns.every((turn) => turn.serverCpuUs !== undefined)
      ? { serverCpuUs: sum((turn) => turn.serverCpuUs! * turn.requests) / requests }
      : {}),
  };
}

/** First-run setup on `daemon`, a registered tool and an agent granted it: the admin's token, the agent's key and JWT. */
/** The requests an agent makes: whoami with its key and with its token, and an authorize call. */
type PathRequest = Request & { path: string };
interface AgentRequests {
  whoamiWithKey: PathRequest;
  whoamiWithJwt: PathRequest;
  authorize: PathRequest;
}

async function prepareAgent(daemon: BenchDaemon): Promise<{ admin: string; key: string; jwt: string } & AgentRequests> {
  await setupAdmin(daemon);
  const admin = await login(daemon);
  expectStatus(
    await daemon.request('POST', '/admin/tools', { token: admin, body: { name: 'bench_tool' } }),
    201,
    'create a tool',
  );
  const agent = expectStatus(
    await daemon.request<{ id: string; agent_key: { api_key: string } }>('POST', '/admin/agents', {
      token: admin,
      body: { name: 'bench-agent', backend: 'gpt-4o', allowed_tools: ['bench_tool'], issue_key: true },
    }),
    201,
    'create an agent',
  );
  const key = agent.agent_key.api_key;
  const { access_token: jwt } = expectStatus(
    await daemon.request<{ access_token: string }>('POST', '/v1/auth/token', {
      body: { agent_id: agent.id, secret: key },
    }),
    200,
    'exchange the key for a token',
  );
  return {
    admin,
    key,
    jwt,
    whoamiWithKey: { method: 'GET', path: '/v1/whoami', headers: { authorization: `Bearer ${key}` } },
    whoamiWithJwt: { method: 'GET', path: '/v1/whoami', headers: { authorization: `Bearer ${jwt}` } },
    authorize: {
      method: 'POST',
      path: '/v1/authorize',
      headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tool: 'bench_tool' }),
    },
  };
}

/** The machine's busy and total CPU time so far (all cores, from /proc/stat), in clock ticks. */
function machineCpu(): { busy: number; total: number } {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  const total = ticks.reduce((sum, n) => sum + n, 0);
  // idle and iowait
  return { busy: total - ticks[3]! - ticks[4]!, total };
}

/** "0.86× bare Fastify (turns 0.84, 0.89, 0.86)", or with many turns "(median of 10 turns, 0.78–0.93)". */
function ratioText({ ratio, against, rounds }: Comparison): string {
  const ratios = rounds.map((r) => r.daemon / (r.floor ?? r.baseline));
  return `${ratio.toFixed(2)}× ${against}${ratios.length > 1 ? ` (${ratioSpread(ratios)})` : ''}`;
}

/** The turns' ratios: "turns 0.84, 0.89, 0.86", or with many "median of 10 turns, 0.78–0.93". */
const ratioSpread = (ratios: number[]) =>
  ratios.length > 3
    ? `median of ${ratios.length} turns, ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`
    : `turns ${ratios.map((r) => r.toFixed(2)).join(', ')}`;

/** "; raw node:http: daemon 0.45× (…), bare Fastify 0.80× (…)": the ratios to node:http, beside the target's. */
const baselineNote = ({ floor: f, baselineRatio, baseline: base }: Comparison) =>
  f
    ? `; raw node:http: daemon ${baselineRatio.toFixed(2)}× (${rps(base)}), bare Fastify ${f.ratio.toFixed(2)}× (${rps(f.result)})`
    : '';

/** "; server CPU per request 31 µs (baseline 15, bare Fastify 20)": what each answer cost its server. */
const cpuNote = ({ cpuUs }: Comparison) =>
  `; server CPU per request ${cpuUs.daemon} µs (baseline ${cpuUs.baseline}${cpuUs.floor ? `, bare Fastify ${cpuUs.floor}` : ''})`;

/** A row judged as issue 20 sets it: daemon ÷ bare Fastify in the same run, and p99. */
function throughputRow(id: string, scenario: string, comparison: Comparison, minRatio: number): void {
  const { daemon, baseline: base, ratio, floor: f } = comparison;
  details[id] = comparison;
  rows.push({
    id,
    scenario,
    target: `≥ ${minRatio.toFixed(2)}× bare Fastify; p99 ≤ 5 ms`,
    measured: `${ratioText(comparison)}; ${rps(daemon)} vs ${f ? rps(f.result) : rps(base)}; ${latency(daemon)} (bare Fastify ${f ? latency(f.result) : '—'}, node:http ${latency(base)})${baselineNote(comparison)}${cpuNote(comparison)}`,
    pass: ratio >= minRatio && daemon.p99 <= 5,
  });
}

try {
  // ── B5: cold start, an empty home and the seeded database ─────────────────────────────────
  const seeded = ['B4', 'B5', 'B12'].some(wanted) ? await seededDatabase(settings.agents, log) : null;
  const seededHome = () => {
    const home = newHome();
    copyFileSync(seeded!, join(home, 'gatehouse.db'));
    return home;
  };
  if (wanted('B5')) {
    log('B5 cold starts…');
    const startTimes = async (home: () => string) => {
      const times: number[] = [];
      for (let i = 0; i < settings.coldStarts; i++) {
        const daemon = await startDaemon(home(), { keychainService: benchKeychainService() });
        times.push(daemon.startMs);
        await daemon.stop();
      }
      return times;
    };
    const empty = await startTimes(newHome);
    const full = await startTimes(seededHome);
    details.B5 = { emptyMs: empty, seededMs: full, agents: settings.agents };
    rows.push({
      id: 'B5',
      scenario: `cold start to a healthy /healthz (median of ${settings.coldStarts}), empty DB / ${thousands(settings.agents)}-agent DB`,
      target: '≤ 1 s',
      measured: `${ms(median(empty))} (max ${ms(Math.max(...empty))}) / ${ms(median(full))} (max ${ms(Math.max(...full))})`,
      pass: median(empty) <= 1000 && median(full) <= 1000,
    });
  }

  // ── one daemon for B1–B3, B6–B8: an admin, a tool, an agent with a key and a token ───────────
  if (['B0', 'B1', 'B2', 'B3', 'B6', 'B7', 'B8'].some(wanted)) {
    const daemon = await startDaemon(newHome(), {
      keychainService,
      nodeArgs: profile ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [],
    });
    const { admin, whoamiWithKey, whoamiWithJwt, authorize } = await prepareAgent(daemon);

    // ── B6 (idle), B1, B6 (after B1), B0 ─────────────────────────────────────────────────────
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const idleRss = daemon.rssMb();
    let b1: Comparison | null = null;
    if (wanted('B1') || wanted('B6') || wanted('B8')) {
      log('B1 whoami with an agent key…');
      b1 = await compare(daemon, whoamiWithKey, { schema: routes.whoami.response[200] });
      throughputRow('B1', `GET /v1/whoami, agent key, ${IN_TURNS}`, b1, 0.85);
    }
    if (wanted('B6')) {
      const afterB1 = daemon.rssMb();
      details.B6 = { idleMb: idleRss, afterB1Mb: afterB1 };
      rows.push({
        id: 'B6',
        scenario: 'daemon RSS, idle / at the end of B1',
        target: '≤ 150 MB',
        measured: `${round(idleRss)} MB / ${round(afterB1)} MB`,
        pass: idleRss <= 150 && afterB1 <= 150,
      });
    }

    // After B6, so that B0's heavier load does not count in B1's RSS.
    if (wanted('B0')) {
      // No target: the floor of the daemon's HTTP stack (hooks, routing, logging) without auth or DB.
      log('B0 healthz…');
      const b0 = await compare(daemon, { method: 'GET', path: '/healthz' }, { schema: routes.health.response[200] });
      details.B0 = b0;
      rows.push({
        id: 'B0',
        scenario: `GET /healthz (no auth, no database: the HTTP stack's floor), ${IN_TURNS}`,
        target: 'none (context for B1–B3)',
        measured: `${ratioText(b0)}; ${rps(b0.daemon)}; ${latency(b0.daemon)}${baselineNote(b0)}${cpuNote(b0)}`,
        pass: null,
      });
    }
    if (wanted('B2')) {
      log('B2 whoami with an agent token…');
      const b2 = await compare(daemon, whoamiWithJwt, { schema: routes.whoami.response[200] });
      throughputRow('B2', `GET /v1/whoami, agent JWT, ${IN_TURNS}`, b2, 0.85);
    }
    if (wanted('B3')) {
      log('B3 authorize with an agent token…');
      const b3 = await compare(daemon, authorize, { schema: routes.authorize.response[200] });
      throughputRow('B3', `POST /v1/authorize, agent JWT, ${IN_TURNS}`, b3, 0.7);
    }

    // ── B8: valid-key load while another process floods wrong keys ──────────────────────────
    if (wanted('B8') && b1) {
      log('B8 valid keys under a flood of wrong keys…');
      // Well-formed keys (checksum included) that the database does not know: each costs a lookup.
      const wrong = new SeededBytes('bench-wrong-keys');
      const flood: Request[] = Array.from({ length: 16 }, () => ({
        method: 'GET',
        path: '/v1/whoami',
        headers: { authorization: `Bearer ${wrong.agentKey().plaintext}` },
      }));
      // The valid load takes turns with the same load on the baseline, as B1's does (see `compare`).
      // The flood runs through each of the daemon's turns, alone for a moment first, so the limiter
      // has engaged before valid load starts.
      await baselineAnswersAsDaemon(daemon, whoamiWithKey);
      const validLoad = (url: string) =>
        runLoad({ url, connections: CONNECTIONS, seconds: settings.turnSeconds, requests: [whoamiWithKey] });
      const turns: Array<{ valid: LoadResult; flooded: LoadResult; base: LoadResult }> = [];
      for (let turn = 0; turn < settings.turns; turn++) {
        const flooding = runLoad({
          url: daemon.url,
          connections: CONNECTIONS,
          // Past the end of the valid load's turn, which starts once its generator is up.
          seconds: settings.turnSeconds + 2,
          requests: flood,
        });
        await new Promise((resolve) => setTimeout(resolve, 500));
        const valid = await validLoad(daemon.url);
        const flooded = await flooding;
        turns.push({ valid, flooded, base: await validLoad(baseline.url) });
      }
      const valid = pooled(turns.map((t) => t.valid));
      const flooded = pooled(turns.map((t) => t.flooded));
      const limited = flooded.statusCodes['429'] ?? 0;
      const vsAlone = valid.rps / b1.daemon.rps;
      const ratios = turns.map((t) => t.valid.rps / t.base.rps);
      const vsBaseline = median(ratios);
      details.B8 = { valid, flood: flooded, vsAlone, vsBaseline };
      rows.push({
        id: 'B8',
        scenario: `GET /v1/whoami with a valid key (${IN_TURNS} with the baseline) while one process floods 16 wrong keys (${CONNECTIONS} connections)`,
        target: 'B1 ratio under flood ≥ 0.50× baseline; limiter engages (429s)',
        measured:
          `${vsBaseline.toFixed(2)}× baseline (${ratioSpread(ratios)}; ${rps(valid)}; ${vsAlone.toFixed(2)}× B1 without the flood); ` +
          `${latency(valid)}; valid answers not 2xx: ${valid.requests - valid.ok}; ` +
          `flood: ${thousands(flooded.requests)} answered, ${thousands(limited)} × 429, ${thousands(flooded.statusCodes['401'] ?? 0)} × 401`,
        pass: vsBaseline >= 0.5 && limited > 0 && valid.ok === valid.requests,
      });
    }

    // ── B7: key creation, through the API, with and without the keychain write ──────────────
    if (wanted('B7')) {
      log('B7 key creation…');
      const createKeys = async (count: number, parallel: number, inKeychain: boolean) => {
        const started = performance.now();
        const worker = async (n: number) => {
          for (let i = 0; i < n; i++) {
            expectStatus(
              await daemon.request('POST', '/admin/agents/bench-agent/keys', {
                token: admin,
                body: { store_in_keychain: inKeychain },
              }),
              201,
              'create a key',
            );
          }
        };
        await Promise.all(Array.from({ length: parallel }, () => worker(count / parallel)));
        const seconds = (performance.now() - started) / 1000;
        return {
          keys: count,
          parallel,
          inKeychain,
          keysPerSecond: count / seconds,
          msPerKey: (seconds * 1000) / count,
        };
      };
      const runs = {
        sequential: await createKeys(settings.keys, 1, true),
        parallel: await createKeys(settings.keys, PARALLEL_KEYS, true),
        sequentialNoKeychain: await createKeys(settings.keys, 1, false),
        parallelNoKeychain: await createKeys(settings.keys, PARALLEL_KEYS, false),
      };
      // The keychain on its own: the same two writes per key, straight through keytar.
      const service = benchKeychainService();
      const started = performance.now();
      for (let i = 0; i < settings.keys; i++) {
        await keytar.setPassword(service, `agent-key:${i}`, `value-${i}`);
        await keytar.setPassword(service, 'agent:default/bench-agent', `value-${i}`);
      }
      const keytarMsPerKey = (performance.now() - started) / settings.keys;
      const keychainShare = (runs.sequential.msPerKey - runs.sequentialNoKeychain.msPerKey) / runs.sequential.msPerKey;
      details.B7 = { ...runs, keytarMsPerKey, keychainShare };
      const speed = (run: { keysPerSecond: number; msPerKey: number }) =>
        `${round(run.keysPerSecond, 1)} keys/s (${ms(run.msPerKey)}/key)`;
      rows.push({
        id: 'B7',
        scenario: `POST /admin/agents/{name}/keys incl. the keychain write: ${settings.keys} sequential / ${settings.keys} by ${PARALLEL_KEYS} in parallel`,
        target: 'report keys/s and where the time goes',
        measured:
          `${speed(runs.sequential)} / ${speed(runs.parallel)}; without the keychain write ` +
          `${speed(runs.sequentialNoKeychain)} / ${speed(runs.parallelNoKeychain)}; ` +
          `the keychain is ${Math.round(keychainShare * 100)}% of a sequential create (keytar alone: ${ms(keytarMsPerKey)} for a key's 2 writes)`,
        pass: null,
      });
    }
    await daemon.stop();
  }

  // ── B1 and B3 on PostgreSQL beside SQLite's; B13: two replicas on it against one ──────────────
  if (['B1', 'B3', 'B13'].some(wanted)) {
    const server = process.env.GATEHOUSE_TEST_DATABASE_URL;
    if (!server) {
      notes.push(
        'B1 and B3 on PostgreSQL and B13 (replicas) were not run: they need a PostgreSQL server ' +
          '(`bash scripts/with-postgres.sh npm run bench …` starts a throwaway one).',
      );
    } else {
      const database = await createTestDatabase(server);
      // Team mode as deployed: the data and the secrets in PostgreSQL, every replica on the same key.
      const team = {
        GATEHOUSE_DATABASE_URL: database.url,
        GATEHOUSE_SECRET_STORE: 'database',
        GATEHOUSE_KEK: randomBytes(32).toString('base64'),
      };
      const replicas: BenchDaemon[] = [];
      const replica = async () => {
        const started = await startDaemon(newHome(), { keychainService, env: team });
        replicas.push(started);
        return started;
      };
      try {
        const a = await replica();
        const { whoamiWithKey, authorize } = await prepareAgent(a);
        const onPostgres = [
          {
            id: 'B1',
            request: whoamiWithKey,
            schema: routes.whoami.response[200],
            what: 'GET /v1/whoami, agent key',
            min: 0.7,
          },
          {
            id: 'B3',
            request: authorize,
            schema: routes.authorize.response[200],
            what: 'POST /v1/authorize, agent JWT',
            min: 0.6,
          },
        ];
        for (const { id, request, schema, what, min } of onPostgres.filter((row) => wanted(row.id))) {
          log(`${id} on PostgreSQL…`);
          throughputRow(
            `${id}-pg`,
            `${id} on PostgreSQL (database secret store): ${what}, ${IN_TURNS}`,
            await compare(a, request, { schema }),
            min,
          );
        }
        if (wanted('B13')) {
          log('B13 two replicas against one…');
          const b = await replica();
          // A load generator per replica, the connections split between them; the machine's
          // CPU is read around it, as with 2 cores it is what runs out.
          const serve = async (targets: BenchDaemon[]) => {
            const before = machineCpu();
            const results = await Promise.all(
              targets.map((target) =>
                runLoad(
                  {
                    url: target.url,
                    connections: CONNECTIONS / targets.length,
                    seconds: settings.seconds,
                    warmupSeconds: settings.warmup,
                    requests: [whoamiWithKey],
                  },
                  target.pid,
                ),
              ),
            );
            const after = machineCpu();
            for (const result of results)
              if (result.ok !== result.requests || result.errors > 0)
                throw new Error(`B13: not every answer was a 2xx: ${JSON.stringify(result)}`);
            return {
              rps: results.reduce((sum, result) => sum + result.rps, 0),
              p99: Math.max(...results.map((result) => result.p99)),
              serverCpuUs: results.map((result) => round(result.serverCpuUs!, 1)),
              machineBusy: (after.busy - before.busy) / (after.total - before.total),
            };
          };
          const one = await serve([a]);
          const two = await serve([a, b]);
          const ratio = two.rps / one.rps;
          details.B13 = { one, two, ratio, cores: host.cores };
          const busy = (share: number) => `${Math.round(share * 100)} %`;
          rows.push({
            id: 'B13',
            scenario:
              `GET /v1/whoami (agent key) on PostgreSQL, ${CONNECTIONS} connections, ${settings.seconds} s: ` +
              'two replicas (a load generator each, half the connections each) against one',
            target: '≥ 1.7× one replica’s req/s (or say what limits it)',
            measured:
              `${ratio.toFixed(2)}×; ${thousands(two.rps)} vs ${thousands(one.rps)} req/s; p99 ${two.p99} vs ${one.p99} ms; ` +
              `the machine's ${host.cores} cores busy ${busy(two.machineBusy)} vs ${busy(one.machineBusy)}; ` +
              `server CPU per request ${two.serverCpuUs.join(' + ')} µs vs ${one.serverCpuUs[0]} µs`,
            pass: ratio >= 1.7,
          });
        }
      } finally {
        for (const started of replicas) await started.stop();
        await database.drop();
      }
    }
  }

  // ── B11: memory under sustained mixed load ─────────────────────────────────────────────────
  if (wanted('B11')) {
    log(`B11 ${settings.soakSeconds} s of valid keys, tokens and authorize calls under a flood of wrong keys…`);
    // A daemon of its own: what it holds at the end is what this load left behind.
    const daemon = await startDaemon(newHome(), { keychainService: benchKeychainService() });
    const { whoamiWithKey, whoamiWithJwt, authorize } = await prepareAgent(daemon);
    const valid = [whoamiWithKey, whoamiWithJwt, authorize];
    // Well-formed keys the database does not know: 500 of them, each connection sending them in turn.
    const wrong = new SeededBytes('bench-soak-wrong-keys');
    const flood: Request[] = Array.from({ length: 500 }, () => ({
      method: 'GET',
      path: '/v1/whoami',
      headers: { authorization: `Bearer ${wrong.agentKey().plaintext}` },
    }));
    const samples: Array<{ s: number; mb: number }> = [];
    const started = performance.now();
    const sample = () => samples.push({ s: round((performance.now() - started) / 1000, 1), mb: round(daemon.rssMb()) });
    sample();
    const sampler = setInterval(sample, RSS_SAMPLE_MS);
    const cpuAtStart = processCpuMs(daemon.pid);
    const [load, flooded] = await Promise.all([
      runLoad({ url: daemon.url, connections: 32, seconds: settings.soakSeconds, requests: valid }),
      runLoad({ url: daemon.url, connections: 32, seconds: settings.soakSeconds, requests: flood }),
    ]);
    // Both loads' requests share the one process: its CPU over all of them.
    const cpuUs = round(((processCpuMs(daemon.pid) - cpuAtStart) * 1000) / (load.requests + flooded.requests), 1);
    clearInterval(sampler);
    // Once the load stops: what stays.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    sample();
    await daemon.stop();
    const peak = Math.max(...samples.map((s) => s.mb));
    const half = samples.filter((s) => s.s <= settings.soakSeconds / 2);
    const later = samples.filter((s) => s.s > settings.soakSeconds / 2);
    // Levelled off: the second half of the load climbs no higher than 10 MB over the first half's peak.
    const climb = Math.max(...later.map((s) => s.mb)) - Math.max(...half.map((s) => s.mb));
    details.B11 = { samples, load, flood: flooded, peak, climb, cpuUs };
    rows.push({
      id: 'B11',
      scenario:
        `daemon RSS over ${settings.soakSeconds} s of mixed load: whoami (key, JWT) and authorize, 32 connections, ` +
        `while 32 more send unknown keys; sampled every ${RSS_SAMPLE_MS / 1000} s`,
      target: 'levels off, ≤ 150 MB',
      measured:
        `peak ${round(peak)} MB; second half ${climb >= 0 ? '+' : ''}${round(climb)} MB over the first half's peak; ` +
        `${round(samples[samples.length - 1]!.mb)} MB 4 s after the load; ` +
        `RSS ${samples.map((s) => Math.round(s.mb)).join(' → ')}; ` +
        `${thousands(load.ok)} valid answered 2xx of ${thousands(load.requests)}, flood ${thousands(flooded.requests)} ` +
        `(${thousands(flooded.statusCodes['429'] ?? 0)} × 429); server CPU per request ${cpuUs} µs`,
      pass: peak <= 150 && climb <= 10 && load.ok === load.requests,
    });
  }

  // ── B10: the broker against the same upstream called directly ───────────────────────────────
  if (wanted('B10')) {
    log('B10 brokered calls vs direct…');
    const daemon = await startDaemon(newHome(), {
      keychainService: benchKeychainService(),
      nodeArgs: profile ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [],
    });
    await setupAdmin(daemon);
    const admin = await login(daemon);
    // The upstream is the baseline server: it answers every path with its body.
    const upstreamBody = JSON.stringify({ id: 'chatcmpl-bench', choices: [{ message: { content: 'ok' } }] });
    await baseline.answerWith(upstreamBody);
    expectStatus(
      await daemon.request('POST', '/admin/connections', {
        token: admin,
        body: {
          name: 'bench-upstream',
          base_url: baseline.url,
          secret: 'sk-bench-upstream-secret',
          injection: { kind: 'header', name: 'Authorization', template: 'Bearer {secret}' },
        },
      }),
      201,
      'add a connection',
    );
    const agent = expectStatus(
      await daemon.request<{ agent_key: { api_key: string } }>('POST', '/admin/agents', {
        token: admin,
        body: { name: 'bench-broker', allowed_tools: ['connection:bench-upstream'], issue_key: true },
      }),
      201,
      'create an agent',
    );
    const brokered = {
      method: 'POST',
      path: '/proxy/bench-upstream/v1/chat/completions',
      headers: { authorization: `Bearer ${agent.agent_key.api_key}`, 'content-type': 'application/json' },
      body: '{"model":"bench","messages":[{"role":"user","content":"hi"}]}',
    } as const;
    const direct = { ...brokered, path: '/v1/chat/completions', headers: { 'content-type': 'application/json' } };
    const load = (url: string, request: Request, pid: number) =>
      runLoad(
        {
          url,
          connections: CONNECTIONS,
          seconds: settings.seconds,
          warmupSeconds: settings.warmup,
          requests: [request],
        },
        pid,
      );
    // The same request through a bare proxy: how much of the broker's cost any Node proxy pays.
    const proxyFloor = await startProxyFloor(baseline.url);
    const rounds: Array<{ direct: LoadResult; broker: LoadResult; floor: LoadResult }> = [];
    for (let turn = 0; turn < settings.rounds; turn++) {
      // The order turns each round, as in `compare`.
      const first = turn % 2 === 0 ? 'direct' : 'broker';
      const results: Partial<(typeof rounds)[number]> = {};
      for (const which of first === 'direct' ? (['direct', 'broker'] as const) : (['broker', 'direct'] as const))
        results[which] =
          which === 'direct'
            ? await load(baseline.url, direct, baseline.pid)
            : await load(daemon.url, brokered, daemon.pid);
      results.floor = await load(proxyFloor.url, direct, proxyFloor.pid);
      for (const [which, result] of Object.entries(results))
        if (result.ok !== result.requests || result.errors > 0)
          throw new Error(`B10 ${which}: not every answer was a 2xx: ${JSON.stringify(result)}`);
      rounds.push(results as (typeof rounds)[number]);
    }
    const ratioOf = (r: (typeof rounds)[number]) => r.broker.rps / r.direct.rps;
    const middle = rounds.find((r) => ratioOf(r) === median(rounds.map(ratioOf)))!;
    proxyFloor.stop();

    // The latency the broker adds, as B9 measures the gateway's: one connection, nothing queued
    // for the CPU (at 64 connections on 2 cores a request mostly waits its turn), both sides warm.
    const latencyRounds: Array<{ direct: SequentialLatency; broker: SequentialLatency }> = [];
    for (let turn = 0; turn < settings.rounds; turn++) {
      const results: Partial<(typeof latencyRounds)[number]> = {};
      for (const which of turn % 2 === 0 ? (['direct', 'broker'] as const) : (['broker', 'direct'] as const))
        results[which] = await sequentialLatency({
          url: which === 'direct' ? baseline.url : daemon.url,
          request: which === 'direct' ? direct : brokered,
          seconds: settings.seconds,
          warmupSeconds: settings.warmup,
        });
      latencyRounds.push(results as (typeof latencyRounds)[number]);
    }
    const addedP50 = median(latencyRounds.map((r) => r.broker.p50 - r.direct.p50));
    const addedP99 = median(latencyRounds.map((r) => r.broker.p99 - r.direct.p99));
    const single = latencyRounds.find((r) => r.broker.p50 - r.direct.p50 === addedP50)!;

    // A 10 MB answer streamed through: the daemon's memory is sampled while it passes.
    const big = 'x'.repeat(10 * 1024 * 1024);
    await baseline.answerWith(big);
    // After the load above, the heap settles first: its growing or shrinking is not the stream's.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const rssBefore = daemon.rssMb();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, daemon.rssMb())), 10);
    const started = performance.now();
    const streamed = await fetch(`${daemon.url}/proxy/bench-upstream/big`, {
      headers: { authorization: `Bearer ${agent.agent_key.api_key}` },
    });
    let received = 0;
    // Read slowly, as a client on a slow link would: a proxy that buffered would hold it all.
    for await (const chunk of streamed.body!) {
      received += (chunk as Uint8Array).length;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const streamMs = performance.now() - started;
    clearInterval(sampler);
    await daemon.stop();
    const rssGrowth = rssPeak - rssBefore;
    details.B10 = {
      rounds,
      middle,
      latencyRounds,
      addedP50,
      addedP99,
      stream: { received, streamMs, rssBefore, rssPeak },
    };
    rows.push({
      id: 'B10',
      scenario: `POST through /proxy/<connection> vs the same upstream directly, ${CONNECTIONS} connections (throughput), then 1 connection (latency), ${settings.seconds} s; a 10 MB answer streamed`,
      target: 'added p99 ≤ 3 ms, ≥ 0.75× direct; memory flat on 10 MB',
      measured:
        `${ratioOf(middle).toFixed(2)}×${rounds.length > 1 ? ` (rounds ${rounds.map((r) => ratioOf(r).toFixed(2)).join(', ')})` : ''}; ` +
        `${rps(middle.broker)} vs ${rps(middle.direct)}; at ${CONNECTIONS} connections broker ${latency(middle.broker)}, direct ${latency(middle.direct)}; ` +
        `1 connection: added p50 ${round(addedP50, 2)} ms, added p99 ${round(addedP99, 2)} ms (broker p50 ${single.broker.p50} / p99 ${single.broker.p99} ms, direct p50 ${single.direct.p50} / p99 ${single.direct.p99} ms); server CPU per request ${round(middle.broker.serverCpuUs!, 1)} µs (upstream ${round(middle.direct.serverCpuUs!, 1)}); ` +
        `bare node:http + undici proxy ${rps(middle.floor)} (${(middle.floor.rps / middle.direct.rps).toFixed(2)}× direct; broker ${(middle.broker.rps / middle.floor.rps).toFixed(2)}× it), ${latency(middle.floor)}, CPU per request ${round(middle.floor.serverCpuUs!, 1)} µs; ` +
        `10 MB in ${ms(streamMs)} (${thousands(received)} bytes), RSS ${round(rssBefore)} → peak ${round(rssPeak)} MB`,
      pass: ratioOf(middle) >= 0.75 && addedP99 <= 3 && received === big.length && rssGrowth < 10,
    });
  }

  // ── B9: tools/call through the MCP gateway vs directly to the same upstream ───────────────
  if (wanted('B9')) {
    log('B9 MCP gateway vs the upstream directly…');
    const upstream = await startMcpUpstream();
    const daemon = await startDaemon(newHome(), {
      keychainService: benchKeychainService(),
      nodeArgs: profile ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [],
    });
    try {
      await setupAdmin(daemon);
      const admin = await login(daemon);
      expectStatus(
        await daemon.request('POST', '/admin/servers', {
          token: admin,
          body: { name: 'bench', transport: 'http', url: upstream.url },
        }),
        201,
        'register the MCP upstream',
      );
      for (let waited = 0; ; waited += 100) {
        const server = await daemon.request<{ status: string }>('GET', '/v1/servers/bench', { token: admin });
        if (server.body.status === 'running') break;
        if (waited > 20_000) throw new Error(`B9: the upstream stayed ${server.body.status}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const agent = expectStatus(
        await daemon.request<{ agent_key: { api_key: string } }>('POST', '/admin/agents', {
          token: admin,
          body: { name: 'bench-mcp', allowed_tools: ['bench.echo'], issue_key: true },
        }),
        201,
        'create an agent',
      );
      const direct = { url: upstream.url, headers: {}, tool: 'echo', pids: { upstream: upstream.pid } };
      const gateway = {
        url: `${daemon.url}/mcp`,
        headers: { authorization: `Bearer ${agent.agent_key.api_key}` },
        tool: 'bench.echo',
        pids: { daemon: daemon.pid, upstream: upstream.pid },
      };
      // The same calls through a bare proxy: what any Node hop between the agent and its upstream adds.
      const proxyFloor = await startProxyFloor(new URL(upstream.url).origin);
      const floor = {
        ...direct,
        url: `${proxyFloor.url}/mcp`,
        pids: { proxy: proxyFloor.pid, upstream: upstream.pid },
      };
      type Sides = Record<'direct' | 'gateway', McpLoadResult> & { floor?: McpLoadResult };
      /** Rounds of `sides`, the order turning each round as in `compare`; in windows of `windowSeconds` if given. */
      const measure = async (
        sides: Partial<Record<keyof Sides, McpTarget>>,
        sessions: number,
        windowSeconds?: number,
      ) => {
        const rounds: Sides[] = [];
        for (let turn = 0; turn < settings.rounds; turn++) {
          const names = Object.keys(sides) as Array<keyof Sides>;
          const order = names.map((_, i) => names[(i + turn) % names.length]!);
          const results = await mcpLoadsInTurn(
            order.map((name) => sides[name]!),
            { sessions, seconds: settings.seconds, warmupSeconds: settings.warmup, windowSeconds },
          );
          rounds.push(Object.fromEntries(order.map((name, i) => [name, results[i]!])) as Sides);
        }
        return rounds;
      };
      // A fresh process's first few thousand calls run before V8 has compiled its path: the
      // upstream's first 2 s directly, then the fresh daemon's, measured once, apart. The throughput
      // rounds then warm both sides up for the latency rounds, which measure the daemon as agents
      // meet it after its first minute.
      const cold = {
        direct: await mcpLoad({ ...direct, sessions: 1, seconds: 2, warmupSeconds: 0 }),
        gateway: await mcpLoad({ ...gateway, sessions: 1, seconds: 2, warmupSeconds: 0 }),
      };
      const throughputRounds = await measure({ direct, gateway }, 16);
      // A call takes about a millisecond, and this machine's speed drifts by more than the gateway
      // adds from one 10 s window to the next: the sides take turns a second at a time.
      const latencyRounds = await measure({ direct, floor, gateway }, 1, 1);
      proxyFloor.stop();
      const addedP50 = median(latencyRounds.map((r) => r.gateway.p50 - r.direct.p50));
      const addedP99 = median(latencyRounds.map((r) => r.gateway.p99 - r.direct.p99));
      const floorP50 = median(latencyRounds.map((r) => r.floor!.p50 - r.direct.p50));
      const ratioOf = (r: (typeof throughputRounds)[number]) => r.gateway.rps / r.direct.rps;
      const middle = throughputRounds.find((r) => ratioOf(r) === median(throughputRounds.map(ratioOf)))!;
      const single = latencyRounds.find((r) => r.gateway.p50 - r.direct.p50 === addedP50)!;
      details.B9 = { cold, latencyRounds, throughputRounds, addedP50, addedP99, floorP50 };
      rows.push({
        id: 'B9',
        scenario: `MCP tools/call of a trivial tool (the SDK's echo) through /mcp vs the same Streamable HTTP upstream directly, SDK clients; 16 sessions (throughput), then 1 session (latency: warm, direct, a bare proxy and the gateway taking turns a second at a time), ${settings.seconds} s`,
        target: 'added p50 ≤ 0.5 ms, added p99 ≤ 3 ms; ≥ 0.80× direct at 16 sessions',
        measured:
          `added p50 ${round(addedP50, 2)} ms, added p99 ${round(addedP99, 2)} ms ` +
          `(gateway p50 ${single.gateway.p50} / p99 ${single.gateway.p99} ms, direct p50 ${single.direct.p50} / p99 ${single.direct.p99} ms; ` +
          `a bare node:http + undici proxy adds p50 ${round(floorP50, 2)} ms; ` +
          `a fresh daemon's first 2 s: p50 ${cold.gateway.p50} / p99 ${cold.gateway.p99} ms, the fresh upstream's directly p50 ${cold.direct.p50} / p99 ${cold.direct.p99} ms); ` +
          `16 sessions ${ratioOf(middle).toFixed(2)}×${throughputRounds.length > 1 ? ` (rounds ${throughputRounds.map((r) => ratioOf(r).toFixed(2)).join(', ')})` : ''}: ` +
          `${thousands(middle.gateway.rps)} vs ${thousands(middle.direct.rps)} calls/s; CPU per call: ` +
          `daemon ${middle.gateway.cpuUsPerCall.daemon} µs + upstream ${middle.gateway.cpuUsPerCall.upstream} µs through the gateway, ` +
          `upstream ${middle.direct.cpuUsPerCall.upstream} µs directly`,
        pass: addedP50 <= 0.5 && addedP99 <= 3 && ratioOf(middle) >= 0.8,
      });
    } finally {
      await daemon.stop();
      upstream.stop();
    }
  }

  // ── B4: listing agents on the seeded database ─────────────────────────────────────────────
  if (wanted('B4')) {
    log('B4 agent lists on the seeded database…');
    // A keychain service of its own: the signing key in `keychainService` belongs to the other database.
    const daemon = await startDaemon(seededHome(), { keychainService: benchKeychainService() });
    const admin = await login(daemon);
    const offset = Math.round(settings.agents * 0.9);
    const list = (query: string) =>
      compare(
        daemon,
        { method: 'GET', path: `/v1/agents?${query}`, headers: { authorization: `Bearer ${admin}` } },
        // Its target is latency, not a ratio: one turn, as long as the other scenarios' loads.
        { connections: settings.listConnections, turns: 1, seconds: settings.seconds },
      );
    const first = await list('status=active&limit=20');
    const deep = await list(`status=active&limit=20&offset=${offset}`);
    await daemon.stop();
    details.B4 = { first, deep, agents: settings.agents, keys: settings.agents * 2 };
    rows.push({
      id: 'B4',
      scenario: `GET /v1/agents?status=active, first page / offset ${thousands(offset)}, ${thousands(settings.agents)} agents & ${thousands(settings.agents * 2)} keys, ${settings.listConnections} connections`,
      target: 'p99 ≤ 20 ms',
      measured:
        `${latency(first.daemon)}, ${rps(first.daemon)} (${first.ratio.toFixed(2)}× baseline) / ` +
        `${latency(deep.daemon)}, ${rps(deep.daemon)} (${deep.ratio.toFixed(2)}× baseline)`,
      pass: first.daemon.p99 <= 20 && deep.daemon.p99 <= 20,
    });
  }

  // ── B4-pg: the same lists on PostgreSQL, ten times the agents ─────────────────────────────
  if (wanted('B4-pg')) {
    const server = process.env.GATEHOUSE_TEST_DATABASE_URL;
    if (!server) {
      notes.push('B4-pg was not run: it needs a PostgreSQL server (`bash scripts/with-postgres.sh npm run bench …`).');
    } else {
      log('B4-pg agent lists on PostgreSQL…');
      const database = await createTestDatabase(server);
      const daemon = await startDaemon(newHome(), {
        keychainService: benchKeychainService(),
        env: {
          GATEHOUSE_DATABASE_URL: database.url,
          GATEHOUSE_SECRET_STORE: 'database',
          GATEHOUSE_KEK: randomBytes(32).toString('base64'),
        },
      });
      try {
        await setupAdmin(daemon);
        await seedPostgresAgents(database.url, settings.pgAgents, log);
        const admin = await login(daemon);
        const list = (query: string) =>
          compare(
            daemon,
            { method: 'GET', path: `/v1/agents?${query}`, headers: { authorization: `Bearer ${admin}` } },
            { connections: settings.listConnections, turns: 1, seconds: settings.seconds },
          );
        const agents = settings.pgAgents;
        const active = Math.round(agents * 0.95);
        // The middle is the deepest an offset goes: a page past it is read from the far end.
        const pages = [
          { filter: '', what: 'all', middle: agents / 2, deep: agents * 0.9 },
          { filter: 'status=active&', what: 'status=active', middle: active / 2, deep: agents * 0.9 },
        ];
        const measured: Record<string, Record<'first' | 'middle' | 'deep' | 'cursor', Comparison>> = {};
        for (const { filter, what, middle, deep } of pages) {
          // The cursor of the page at the deep offset: the page after it is read by cursor.
          const cursor = (
            await fetch(`${daemon.url}/v1/agents?${filter}limit=20&offset=${Math.round(deep)}`, {
              headers: { authorization: `Bearer ${admin}` },
            })
          ).headers.get('x-next-cursor');
          if (!cursor) throw new Error(`B4-pg: no next cursor at offset ${deep}`);
          measured[what] = {
            first: await list(`${filter}limit=20`),
            middle: await list(`${filter}limit=20&offset=${Math.round(middle)}`),
            deep: await list(`${filter}limit=20&offset=${Math.round(deep)}`),
            cursor: await list(`${filter}limit=20&cursor=${cursor}`),
          };
        }
        details['B4-pg'] = { ...measured, agents, keys: agents * 2 };
        for (const { what, middle, deep } of pages) {
          const { first, middle: mid, deep: far, cursor } = measured[what]!;
          rows.push({
            id: 'B4-pg',
            scenario:
              `GET /v1/agents${what === 'all' ? '' : `?${what}`} on PostgreSQL, ${thousands(agents)} agents & ${thousands(agents * 2)} keys, ` +
              `${settings.listConnections} connections: first page / offset ${thousands(middle)} (the middle, the slowest an offset gets) / ` +
              `offset ${thousands(deep)} / the page after it by cursor`,
            target: 'p99 ≤ 20 ms (first page and deep: by cursor, as an offset cannot)',
            // The baseline's p99 beside: what the machine alone adds to a request at that moment.
            measured: [first, mid, far, cursor]
              .map((c) => `${latency(c.daemon)}, ${rps(c.daemon)} (node:http p99 ${c.baseline.p99} ms)`)
              .join(' / '),
            pass: first.daemon.p99 <= 20 && cursor.daemon.p99 <= 20,
          });
        }
      } finally {
        await daemon.stop();
        await database.drop();
      }
    }
  }

  // ── B12: the overview's aggregates on the seeded database with four weeks of activity ────────
  if (wanted('B12')) {
    log('B12 the overview on the seeded database…');
    const home = seededHome();
    const dbPath = join(home, 'gatehouse.db');
    const seededActivity = await addActivity(dbPath, settings.auditEvents, log);
    // The same database without migration 0013's indexes, for the side-by-side comparison.
    const withoutHome = newHome();
    const withoutPath = join(withoutHome, 'gatehouse.db');
    copyFileSync(dbPath, withoutPath);
    await undoOverviewIndexes(withoutPath);
    const daemon = await startDaemon(home, { keychainService: benchKeychainService() });
    const without = await startDaemon(withoutHome, { keychainService: benchKeychainService() });
    const admins = new Map([
      [daemon, await login(daemon)],
      [without, await login(without)],
    ]);
    /**
     * Sequential requests, one at a time (the time one admin waits for the screen's data), to the
     * two daemons in turn, the one asked first changing each round, so both see the same load.
     */
    const timed = async (path: string) => {
      const times = new Map([
        [daemon, [] as number[]],
        [without, [] as number[]],
      ]);
      for (let i = 0; i < settings.overviewSamples; i++) {
        for (const target of i % 2 === 0 ? [daemon, without] : [without, daemon]) {
          const started = performance.now();
          expectStatus(await target.request('GET', path, { token: admins.get(target)! }), 200, `GET ${path}`);
          times.get(target)!.push(performance.now() - started);
        }
      }
      const summary = (t: number[]) => ({ first: t[0]!, median: median(t.slice(1)), max: Math.max(...t.slice(1)) });
      return { indexed: summary(times.get(daemon)!), unindexed: summary(times.get(without)!) };
    };
    const overview = await timed('/v1/overview');
    const activity = await timed(`/v1/agents/${seededActivity.busiestAgent}/activity`);
    await daemon.stop();
    await without.stop();
    // What the indexes cost an append: the same events appended to both files, in turn.
    const appendMs = { indexed: [] as number[], unindexed: [] as number[] };
    for (let i = 0; i < 3; i++) {
      appendMs.indexed.push(await timeAppend(dbPath, settings.appendedEvents));
      appendMs.unindexed.push(await timeAppend(withoutPath, settings.appendedEvents));
    }
    const append = { indexed: median(appendMs.indexed), unindexed: median(appendMs.unindexed) };
    rmSync(withoutHome, { recursive: true, force: true });
    details.B12 = { overview, activity, append, appendedEvents: settings.appendedEvents, ...seededActivity };
    const timing = (t: { first: number; median: number; max: number }) =>
      `first ${ms(t.first)}, then median ${ms(t.median)} (max ${ms(t.max)})`;
    const compared = (t: typeof overview) =>
      `${timing(t.indexed)}; without 0013's indexes ${timing(t.unindexed)} ` +
      `(${(t.unindexed.median / t.indexed.median).toFixed(2)}× slower)`;
    rows.push({
      id: 'B12',
      scenario:
        `GET /v1/overview / GET /v1/agents/{busiest}/activity, ${thousands(settings.agents)} agents & ` +
        `${thousands(settings.agents * 2)} keys, ${thousands(seededActivity.events)} audit events over 4 weeks ` +
        `(${thousands(seededActivity.inLastWeek)} in the last week), ${settings.overviewSamples} sequential requests ` +
        `each, with and without migration 0013's indexes in turn`,
      target: 'bounded by the week read, not the whole chain; report',
      measured:
        `${compared(overview)} / ${compared(activity)}; appending ${thousands(settings.appendedEvents)} events ` +
        `${ms(append.indexed)} vs ${ms(append.unindexed)} without (${(append.indexed / append.unindexed).toFixed(2)}×)`,
      pass: null,
    });
  }
} finally {
  baseline.stop();
  floor.stop();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
}

// ── results ─────────────────────────────────────────────────────────────────────────────────
rows.sort((a, b) => a.id.localeCompare(b.id));
notes.push(
  `Baseline: a plain node:http server answering with the daemon's own body for the same request. ` +
    `B0–B3 are judged against bare Fastify (below), as issue 20 sets their targets, with the raw node:http ratio beside; ` +
    `ratios are daemon ÷ reference req/s (2xx only). B0–B3 warm each server up for ${settings.warmup} s, then load the ` +
    `servers in turns of ${settings.turnSeconds} s, ${settings.turns} times, the order rotating; each turn gives a ratio, ` +
    `the median turn's is reported (req/s, CPU per request: over every turn; p50 and p99: the median turn's).`,
  `Bare Fastify: the framework alone (no hooks, log, auth or database) answering with the same body through the ` +
    `same response schema and serialiser: what any Fastify daemon could reach here.`,
  `Server CPU per request: the user + system time of the server's process (every thread) during the measured ` +
    `load, divided by its requests. Where the server's thread is the bottleneck (req/s × that time near one ` +
    `second per second), req/s ≈ 1 ÷ that time, and a ratio r leaves (1/r − 1) × the baseline's time for ` +
    `all the daemon adds (for 0.70×, 0.43 × the baseline's).`,
  `Load: autocannon in a child process; the machine has ${host.cores} cores, so server and load generator share them.`,
  `The daemon is the built one (\`node daemon/bin/gatehouse.js daemon\`) with its default flags (log level info).`,
);
if (profile)
  notes.push(`CPU profile of the B1–B9 daemons in ${cpuProfileDir} (summary: \`tsx bench/profile-summary.mts\`).`);
const title = `Gatehouse benchmarks${quick ? ' (quick)' : ''}`;
const md = markdown(title, host, rows, notes);
const day = host.date.slice(0, 10);
// Quick and partial runs are for everyday use: their files stay out of the repository.
const files = await writeResults(
  quick || only ? join(CACHE_DIR, 'results') : join(REPO, 'bench/results'),
  quick ? `${day}-quick` : day,
  md,
  { title, mode: quick ? 'quick' : 'full', machine: host, loadAtEnd: loadavg(), settings, rows, details },
);
console.log(`\n${md}`);
log(`results in ${files.join(', ')}`);
