import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { bridgeChannels, type ConsoleEvent } from '@gatehouse/shared';
import { ADMIN, startTestDaemon, type TestDaemon } from '../../daemon/src/testing/test-daemon.js';
import type { Sender } from './bridge-dispatch.js';
import { BridgeHost, type BridgeHostOptions } from './bridge-host.js';

const APP_URL = 'gatehouse://app/index.html';
const channel = bridgeChannels;

let t: TestDaemon;
/** Every request the host sent to the daemon (method and path), in order. */
let sent: string[];
/** Every token the daemon handed out, to prove none reaches the renderer. */
let issuedTokens: string[];
let pushed: ConsoleEvent[];
const sender: Sender = { id: 1, url: APP_URL, isMainFrame: true, push: (event) => pushed.push(event) };

beforeEach(async () => {
  t = await startTestDaemon();
  sent = [];
  issuedTokens = [];
  pushed = [];
});

afterEach(async () => {
  vi.useRealTimers();
  await t.dispose();
});

function host(options: Partial<BridgeHostOptions> = {}): BridgeHost {
  const recordingFetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    sent.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`);
    const response = await fetch(input, init);
    if (response.ok && /^\/auth\/(login|refresh)$/.test(url.pathname)) {
      const body = (await response.clone().json()) as { access_token: string; refresh_token: string };
      issuedTokens.push(body.access_token, body.refresh_token);
    }
    return response;
  };
  return new BridgeHost({
    daemonUrl: () => t.url,
    isAppUrl: (url) => url === APP_URL,
    appVersion: '9.9.9',
    fetch: recordingFetch,
    ...options,
  });
}

/** Signs the admin in through the bridge, as the console's first run does. */
async function signedIn(h: BridgeHost) {
  const result = await h.handle(channel.sessionSetup.channel, ADMIN, sender);
  expect(result).toMatchObject({ ok: true, data: { status: 'signed_in', user: { username: ADMIN.username } } });
  return h;
}

const api = (h: BridgeHost, args: object) => h.handle(channel.api.channel, args, sender);

describe('BridgeHost', () => {
  it('walks setup, login, API calls and logout without a token ever reaching the renderer', async () => {
    const h = host();
    const results: unknown[] = [];
    const call = async (name: string, arg: unknown) => {
      const result = await h.handle(name, arg, sender);
      results.push(result);
      return result;
    };

    expect(await call(channel.sessionState.channel, null)).toEqual({ ok: true, data: { status: 'needs_setup' } });
    await signedIn(h);
    expect(await call(channel.sessionLogout.channel, null)).toEqual({ ok: true, data: { status: 'signed_out' } });
    expect(
      await call(channel.sessionLogin.channel, { username: ADMIN.username, password: 'wrong password!' }),
    ).toMatchObject({
      ok: false,
      problem: { code: 'unauthorized', status: 401 },
    });
    expect(await call(channel.sessionLogin.channel, ADMIN)).toMatchObject({ ok: true, data: { status: 'signed_in' } });

    const created = await call(channel.api.channel, {
      route: 'createAgent',
      body: { name: 'researcher', backend: 'gpt4o', issue_key: true },
    });
    expect(created).toMatchObject({
      ok: true,
      data: { name: 'researcher', agent_key: { api_key: expect.any(String) } },
    });
    await call(channel.api.channel, { route: 'createAgent', body: { name: 'writer', backend: 'gpt4o' } });
    expect(await call(channel.api.channel, { route: 'listAgents', query: { limit: 1 } })).toMatchObject({
      ok: true,
      data: [expect.objectContaining({ name: expect.any(String) })],
      total: 2,
    });
    expect(await call(channel.api.channel, { route: 'getAgent', params: { name: 'writer' } })).toMatchObject({
      ok: true,
      data: { name: 'writer' },
    });
    // The daemon's own problems pass through unchanged.
    expect(await call(channel.api.channel, { route: 'getAgent', params: { name: 'nobody' } })).toMatchObject({
      ok: false,
      problem: { code: 'not_found', status: 404, detail: expect.stringContaining('not found') },
    });
    expect(await call(channel.shell.channel, null)).toEqual({
      ok: true,
      data: { shell: 'electron', daemon_url: t.url, app_version: '9.9.9', can_restart_daemon: false },
    });

    expect(await call(channel.sessionLogout.channel, null)).toEqual({ ok: true, data: { status: 'signed_out' } });
    expect(await call(channel.api.channel, { route: 'listAgents' })).toMatchObject({
      ok: false,
      problem: { code: 'unauthorized' },
    });

    expect(issuedTokens.length).toBeGreaterThanOrEqual(4);
    const everything = JSON.stringify(results);
    for (const token of issuedTokens) expect(everything).not.toContain(token);
  });

  it('sends the chosen project as X-Project-Id', async () => {
    const h = await signedIn(host());
    const project = await api(h, { route: 'createProject', body: { name: 'Research' } });
    expect(project.ok).toBe(true);
    const projectId = (project as { data: { id: string } }).data.id;
    await api(h, { route: 'createAgent', projectId, body: { name: 'scout', backend: 'gpt4o' } });

    expect(await api(h, { route: 'listAgents', projectId })).toMatchObject({
      ok: true,
      total: 1,
      data: [{ name: 'scout' }],
    });
    expect(await api(h, { route: 'listAgents' })).toMatchObject({ ok: true, total: 0 });
  });

  it('refreshes the access token shortly before it expires', async () => {
    let skew = 0;
    const h = await signedIn(host({ now: () => Date.now() + skew }));
    skew = 14.5 * 60_000; // 30 s before the 15-minute expiry, by the host's clock
    sent = [];
    expect(await api(h, { route: 'listAgents' })).toMatchObject({ ok: true });
    expect(sent).toEqual(['POST /auth/refresh', 'GET /v1/agents']);
  });

  it('refreshes once after a 401, however many calls hit it at the same time', async () => {
    const start = Date.now();
    const h = await signedIn(host({ now: () => start }));
    // The daemon's clock (this process's Date) passes the access token's expiry; the host's does not.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(start + 16 * 60_000);
    sent = [];

    const results = await Promise.all([1, 2, 3].map(() => api(h, { route: 'listAgents' })));
    for (const result of results) expect(result).toMatchObject({ ok: true });
    expect(sent.filter((request) => request === 'POST /auth/refresh')).toHaveLength(1);
    expect(sent.filter((request) => request === 'GET /v1/agents')).toHaveLength(6);
    expect(await h.handle(channel.sessionState.channel, null, sender)).toMatchObject({ data: { status: 'signed_in' } });
  });

  it('ends the session when the refresh token is refused', async () => {
    const start = Date.now();
    const h = await signedIn(host({ now: () => start }));
    const changes: boolean[] = [];
    h.onSessionChange((signedIn) => changes.push(signedIn));
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(start + 31 * 24 * 3600_000); // past the refresh token's 30 days too

    expect(await api(h, { route: 'listAgents' })).toMatchObject({ ok: false, problem: { code: 'unauthorized' } });
    expect(changes).toEqual([false]);
    expect(await h.handle(channel.sessionState.channel, null, sender)).toEqual({
      ok: true,
      data: { status: 'signed_out' },
    });
  });

  it('refuses invalid arguments before calling the daemon', async () => {
    const h = await signedIn(host());
    sent = [];
    const refused = async (name: string, arg: unknown, code: string, location?: string) => {
      const result = await h.handle(name, arg, sender);
      expect(result).toMatchObject({ ok: false, problem: { code } });
      if (location) {
        const errors = (result as { problem: { errors: { location: string }[] } }).problem.errors;
        expect(errors.map((error) => error.location)).toContain(location);
      }
    };

    await refused('gatehouse:shell:exec', null, 'bad_request');
    await refused(channel.sessionLogin.channel, { username: ADMIN.username }, 'validation_failed', 'arg');
    await refused(channel.sessionLogin.channel, { ...ADMIN, remember: true }, 'validation_failed');
    await refused(channel.sessionState.channel, { anything: 1 }, 'validation_failed');
    await refused(channel.api.channel, { route: 'listAgents', headers: { 'x-api-key': 'x' } }, 'validation_failed');
    await refused(channel.api.channel, { route: 'getAgent' }, 'validation_failed', 'params');
    await refused(
      channel.api.channel,
      { route: 'listAgents', query: { limit: 5000 } },
      'validation_failed',
      'query.limit',
    );
    await refused(channel.api.channel, { route: 'createAgent', body: { name: 'x', extra: 1 } }, 'validation_failed');
    await refused(channel.api.channel, { route: 'createAgent' }, 'validation_failed', 'body');
    await refused(channel.api.channel, { route: 'listAgents', body: {} }, 'validation_failed', 'body');
    await refused(channel.eventsSubscribe.channel, { projectId: 42 }, 'validation_failed', 'arg.projectId');
    expect(sent).toEqual([]);
  });

  it('refuses routes that are not for the console', async () => {
    const h = await signedIn(host());
    sent = [];
    for (const route of [
      'login',
      'refresh',
      'logout',
      'consoleSignIn',
      'consoleRefresh',
      'consoleSignOut',
      'agentToken',
      'events',
      'otasLogin',
      'toString',
      'nope',
    ]) {
      expect(await api(h, { route, body: {} })).toMatchObject({ ok: false, problem: { code: 'bad_request' } });
    }
    expect(sent).toEqual([]);
  });

  it('answers only the app’s own main frame', async () => {
    const h = await signedIn(host());
    sent = [];
    const others: Sender[] = [
      { ...sender, url: 'https://evil.example/index.html' },
      { ...sender, url: 'file:///tmp/index.html' },
      { ...sender, isMainFrame: false },
    ];
    for (const other of others) {
      for (const [name, arg] of [
        [channel.sessionState.channel, null],
        [channel.api.channel, { route: 'listAgents' }],
        [channel.eventsSubscribe.channel, { projectId: null }],
      ] as const) {
        expect(await h.handle(name, arg, other)).toMatchObject({ ok: false, problem: { code: 'forbidden' } });
      }
    }
    expect(sent).toEqual([]);
  });

  it('restarts only a daemon the app may restart, and says why one did not come back', async () => {
    const restart = async (daemon: BridgeHostOptions['daemon']) =>
      host(daemon ? { daemon } : {}).handle(channel.restartDaemon.channel, null, sender);
    expect(await restart(undefined)).toMatchObject({ ok: false, problem: { code: 'conflict' } });
    expect(await restart({ canRestart: () => false, restart: async () => ({ ok: true }) })).toMatchObject({
      ok: false,
      problem: { code: 'conflict', detail: expect.stringContaining('not started by the app') },
    });
    const refused = await restart({
      canRestart: () => true,
      restart: async () => ({ ok: false, reason: 'port 7420 is in use' }),
    });
    expect(refused).toMatchObject({
      ok: false,
      problem: { code: 'daemon_unavailable', detail: expect.stringContaining('port 7420 is in use') },
    });
    let restarts = 0;
    const restarted = await restart({ canRestart: () => true, restart: async () => (restarts++, { ok: true }) });
    expect(restarts).toBe(1);
    expect(restarted).toMatchObject({
      ok: true,
      data: { shell: 'electron', daemon_url: t.url, can_restart_daemon: true },
    });
  });

  it('says the daemon is unavailable when it is not running or cannot be reached', async () => {
    expect(await host({ daemonUrl: () => null }).handle(channel.sessionState.channel, null, sender)).toMatchObject({
      ok: false,
      problem: { code: 'daemon_unavailable', status: 503 },
    });
    const url = t.url;
    await t.stop();
    expect(await host({ daemonUrl: () => url }).handle(channel.api.channel, { route: 'status' }, sender)).toMatchObject(
      {
        ok: false,
        problem: { code: 'daemon_unavailable', detail: expect.stringContaining(url) },
      },
    );
  });

  it('relays the project’s events to the subscribed window until it unsubscribes', async () => {
    const h = await signedIn(host());
    expect(await h.handle(channel.eventsSubscribe.channel, { projectId: null }, sender)).toEqual({
      ok: true,
      data: null,
    });
    await vi.waitFor(() => expect(sent).toContain('GET /v1/events'));
    await new Promise((resolve) => setTimeout(resolve, 200)); // the daemon subscribes its feed after answering

    await api(h, { route: 'createAgent', body: { name: 'watched', backend: 'gpt4o' } });
    await vi.waitFor(() =>
      expect(pushed).toContainEqual({
        category: 'agent',
        event: expect.objectContaining({ event_type: 'agent.created', target: expect.stringContaining('watched') }),
      }),
    );

    expect(await h.handle(channel.eventsUnsubscribe.channel, null, sender)).toEqual({ ok: true, data: null });
    const count = pushed.length;
    await api(h, { route: 'createAgent', body: { name: 'unwatched', backend: 'gpt4o' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pushed).toHaveLength(count);
  });
});
