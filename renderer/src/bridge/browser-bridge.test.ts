import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConsoleEvent } from '@gatehouse/shared';
import { ADMIN, startWithAdmin, type TestDaemon } from '../../../daemon/src/testing/test-daemon.js';
import { createBrowserBridge } from './browser-bridge.js';

let t: TestDaemon;
beforeAll(async () => ({ t } = await startWithAdmin()));
afterAll(() => t.dispose());

/**
 * The browser's part the bridge relies on, for a real daemon from Node: a cookie jar that keeps
 * what Set-Cookie says (name, value, Path, Max-Age=0 as removal) and sends a cookie only to its
 * path, with same-origin requests. Every request is recorded with the cookies it carried.
 */
function browser() {
  const jar = new Map<string, { value: string; path: string }>();
  const sent: { path: string; cookie: string | null }[] = [];
  const send: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const cookies = [...jar]
      .filter(([, cookie]) => init?.credentials === 'same-origin' && url.pathname.startsWith(cookie.path))
      .map(([name, cookie]) => `${name}=${cookie.value}`);
    const cookie = cookies.length > 0 ? cookies.join('; ') : null;
    sent.push({ path: url.pathname, cookie });
    const headers = new Headers(init?.headers);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(input, { ...init, headers });
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';').map((part) => part.trim());
      const [name = '', value = ''] = pair.split('=');
      const path = attributes.find((attribute) => attribute.startsWith('Path='))?.slice(5) ?? '/';
      if (attributes.includes('Max-Age=0')) jar.delete(name);
      else jar.set(name, { value, path });
    }
    return response;
  };
  return { jar, sent, bridge: () => createBrowserBridge(t.url, send) };
}

describe('the browser bridge', () => {
  it('signs in with the cookie session, survives a reload, and signing out ends it', async () => {
    const { jar, sent, bridge } = browser();
    const tab = bridge();
    expect(await tab.session.state()).toEqual({ ok: true, data: { status: 'signed_out' } });
    expect(await tab.session.login({ ...ADMIN, password: 'not the password' })).toMatchObject({
      ok: false,
      problem: { code: 'unauthorized' },
    });
    expect(await tab.session.login(ADMIN)).toMatchObject({
      ok: true,
      data: { status: 'signed_in', user: { username: ADMIN.username } },
    });
    expect([...jar.keys()]).toEqual(['gatehouse_refresh']);
    await tab.api('createAgent', { body: { name: 'scout', backend: 'gpt4o' } });
    expect(await tab.api('listAgents', { query: { limit: 1 } })).toMatchObject({
      ok: true,
      data: [{ name: 'scout' }],
      total: 1,
    });
    // The refresh cookie goes only to the session routes, never with an API call.
    for (const request of sent.filter(({ path }) => !path.startsWith('/console/session')))
      expect(request.cookie, request.path).toBeNull();

    // A reload: no access token in memory, the cookie gets a new one.
    const reloaded = bridge();
    expect(await reloaded.session.state()).toMatchObject({ ok: true, data: { status: 'signed_in' } });
    expect(await reloaded.shell()).toMatchObject({ ok: true, data: { shell: 'browser', daemon_url: t.url } });

    expect(await reloaded.session.logout()).toEqual({ ok: true, data: { status: 'signed_out' } });
    expect(jar.size).toBe(0);
    expect(await reloaded.api('listAgents', {})).toMatchObject({ ok: false, problem: { code: 'unauthorized' } });
    expect(await bridge().session.state()).toEqual({ ok: true, data: { status: 'signed_out' } });
  });

  it('relays the project’s events until unsubscribed', async () => {
    const tab = browser().bridge();
    await tab.session.login(ADMIN);
    const received: ConsoleEvent[] = [];
    const unsubscribe = tab.events(null, (event) => received.push(event));
    await new Promise((resolve) => setTimeout(resolve, 300)); // the daemon subscribes its feed after answering
    await tab.api('createAgent', { body: { name: 'watched', backend: 'gpt4o' } });
    await vi.waitFor(() =>
      expect(received).toContainEqual({
        category: 'agent',
        event: expect.objectContaining({ event_type: 'agent.created', target: expect.stringContaining('watched') }),
      }),
    );
    unsubscribe();
    const count = received.length;
    await tab.api('createAgent', { body: { name: 'unwatched', backend: 'gpt4o' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toHaveLength(count);
  });

  it('answers with a problem when the daemon cannot be reached, and cannot restart it', async () => {
    const tab = createBrowserBridge('http://127.0.0.1:9');
    expect(await tab.session.state()).toMatchObject({ ok: false, problem: { code: 'daemon_unavailable' } });
    expect(await tab.restartDaemon()).toMatchObject({ ok: false, problem: { code: 'conflict', status: 409 } });
  });
});
