import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConformanceUpstream } from '../testing/conformance-upstream.js';
import { startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';

/** The suite needs Node ≥ 22: npx runs it with the `node@22` package's binary first on its PATH. */
const CONFORMANCE = ['--yes', '-p', 'node@22', '-p', '@modelcontextprotocol/conformance@0.1.16', '--', 'conformance'];

/**
 * The conformance client has no option for a credential: this module, loaded into it, adds the
 * agent's Bearer key to its requests to the gateway, as an MCP client configured with headers would.
 */
const WITH_BEARER = `
const gateway = process.env.GATEHOUSE_CONFORMANCE_GATEWAY;
const bearer = process.env.GATEHOUSE_CONFORMANCE_BEARER;
const fetchWithoutBearer = globalThis.fetch;
globalThis.fetch = (input, init = {}) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (!gateway || !url.startsWith(gateway)) return fetchWithoutBearer(input, init);
  const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
  headers.set('authorization', 'Bearer ' + bearer);
  return fetchWithoutBearer(input, { ...init, headers });
};
`;

/** Runs every server scenario against `url`; its summary, scenario → "N passed, M failed". */
async function conformance(url: string, env: Record<string, string> = {}): Promise<Map<string, string>> {
  const output = mkdtempSync(join(tmpdir(), 'gatehouse-conformance-'));
  try {
    // The suite exits non-zero when a scenario fails: the summary is the result either way.
    const run = await promisify(execFile)('npx', [...CONFORMANCE, 'server', '--url', url, '-o', output], {
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 180_000,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    const summary = new Map<string, string>();
    for (const [, scenario, counts] of run.stdout.matchAll(/^[✓✗] ([\w-]+): (\d+ passed, \d+ failed)$/gmu))
      summary.set(scenario!, counts!);
    return summary;
  } finally {
    rmSync(output, { recursive: true, force: true });
  }
}

/**
 * The MCP conformance suite's server scenarios against an SDK-built upstream directly, and through
 * the gateway at `/mcp/<server>` (which names the tools as the server does, as the scenarios call
 * them) with an agent granted all of them: the results must be the same, scenario by scenario.
 */
describe('the MCP conformance suite, directly and through the gateway', () => {
  let t: TestDaemon;
  let upstream: Awaited<ReturnType<typeof startConformanceUpstream>>;
  let key: string;
  const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-conformance-auth-'));

  beforeAll(async () => {
    let admin: string;
    ({ t, admin } = await startWithAdmin());
    upstream = await startConformanceUpstream();
    await t.request('POST', '/admin/servers', {
      token: admin,
      body: { name: 'conformance', transport: 'http', url: upstream.url },
    });
    let server: { status: string; tools: Array<{ name: string }> };
    const deadline = Date.now() + 20_000;
    while ((server = (await t.request('GET', '/v1/servers/conformance', { token: admin })).body).status !== 'running') {
      if (Date.now() > deadline) throw new Error(`the upstream stayed ${server.status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const agent = await t.request('POST', '/admin/agents', {
      token: admin,
      body: { name: 'conformance', allowed_tools: server.tools.map((tool) => tool.name), issue_key: true },
    });
    key = agent.body.agent_key.api_key;
  });
  afterAll(async () => {
    await t.dispose();
    await upstream.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('gives the same result for every server scenario', { timeout: 600_000 }, async () => {
    const direct = await conformance(upstream.url);
    const preload = join(scratch, 'with-bearer.mjs');
    writeFileSync(preload, WITH_BEARER);
    const gateway = `${t.url}/mcp/conformance`;
    const through = await conformance(gateway, {
      NODE_OPTIONS: `--import=${preload}`,
      GATEHOUSE_CONFORMANCE_GATEWAY: gateway,
      GATEHOUSE_CONFORMANCE_BEARER: key,
    });

    // The suite really ran, and the upstream passes most of it on its own.
    expect(direct.size).toBeGreaterThanOrEqual(30);
    expect([...direct.values()].filter((counts) => counts.endsWith(' 0 failed')).length).toBeGreaterThanOrEqual(25);
    expect(Object.fromEntries(through)).toEqual(Object.fromEntries(direct));
  });
});
