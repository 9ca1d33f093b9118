import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';
import { CONSOLE_DIR } from './console.js';

let t: TestDaemon;
beforeAll(async () => ({ t } = await startWithAdmin()));
afterAll(() => t.dispose());

/** A Set-Cookie header as its name=value and its attributes, in any order. */
function parseSetCookie(header: string | null) {
  const [pair = '', ...attributes] = (header ?? '').split(';').map((part) => part.trim());
  return { pair, attributes: attributes.sort() };
}

/** The browser console's session: the refresh token only ever in an HttpOnly cookie. */
describe('the console session', () => {
  it('signs in with a cookie, refreshes with it, and signing out ends the session on the daemon', async () => {
    const signedIn = await t.request('POST', '/console/session', { body: ADMIN });
    expect(signedIn.status).toBe(200);
    expect(Object.keys(signedIn.body).sort()).toEqual(['access_token', 'expires_in']); // no refresh token in the body
    const { pair: cookie, attributes } = parseSetCookie(signedIn.headers.get('set-cookie'));
    expect(cookie).toMatch(/^gatehouse_refresh=ghr_[^;]+$/);
    expect(attributes).toEqual(['HttpOnly', 'Max-Age=2592000', 'Path=/console/session', 'SameSite=Strict']);

    const refreshed = await t.request('POST', '/console/session/refresh', { headers: { cookie } });
    expect(refreshed.status).toBe(200);
    const rotated = parseSetCookie(refreshed.headers.get('set-cookie')).pair;
    expect(rotated).not.toBe(cookie);
    const access = refreshed.body.access_token as string;
    expect((await t.request('GET', '/v1/whoami', { token: access })).status).toBe(200);

    const signedOut = await t.request('DELETE', '/console/session', { headers: { cookie: rotated } });
    expect(signedOut.status).toBe(204);
    expect(signedOut.headers.get('set-cookie')).toMatch(/^gatehouse_refresh=; .*Max-Age=0/);
    // Ended on the daemon: the access token and the cookie are refused, not only forgotten.
    expect((await t.request('GET', '/v1/whoami', { token: access })).status).toBe(401);
    expect((await t.request('POST', '/console/session/refresh', { headers: { cookie: rotated } })).status).toBe(401);
  });

  it('refuses a refresh without the cookie, and clears a cookie the daemon refuses', async () => {
    const missing = await t.request('POST', '/console/session/refresh');
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ code: 'unauthorized', detail: 'No console session: sign in.' });
    expect(missing.headers.get('set-cookie')).toBeNull();

    const forged = await t.request('POST', '/console/session/refresh', {
      headers: { cookie: 'gatehouse_refresh=ghr_forged' },
    });
    expect(forged.status).toBe(401);
    expect(forged.body).toMatchObject({ code: 'unauthorized' });
    expect(parseSetCookie(forged.headers.get('set-cookie'))).toMatchObject({
      pair: 'gatehouse_refresh=',
      attributes: expect.arrayContaining(['Max-Age=0', 'Path=/console/session', 'HttpOnly']),
    });
  });

  it('sets no cookie for a refused sign-in, and refuses a body the contract does not allow', async () => {
    const wrong = await t.request('POST', '/console/session', { body: { ...ADMIN, password: 'not the password' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const invalid = await t.request('POST', '/console/session', { body: { username: ADMIN.username } });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({ code: 'validation_failed' });
    // Signing out without a session is not an error: there is nothing to end, and the cookie is cleared.
    const signedOut = await t.request('DELETE', '/console/session');
    expect(signedOut.status).toBe(204);
    expect(signedOut.headers.get('set-cookie')).toMatch(/^gatehouse_refresh=; /);
  });

  it('keeps cookies to the session routes: no other answer sets or reads one', async () => {
    const signedIn = await t.request('POST', '/console/session', { body: ADMIN });
    const { pair: cookie } = parseSetCookie(signedIn.headers.get('set-cookie'));
    // The refresh cookie is no credential for the API.
    const whoami = await t.request('GET', '/v1/whoami', { headers: { cookie } });
    expect(whoami.status).toBe(401);
    expect(whoami.headers.get('set-cookie')).toBeNull();
  });
});

describe('the console pages', () => {
  it('carry the console policy when the console is built; no API answer, success or problem, carries one', async () => {
    const built = existsSync(join(CONSOLE_DIR, 'index.html'));
    const policy = (await t.request('GET', '/')).headers.get('content-security-policy');
    if (built) expect(policy).toMatch(/^default-src 'self'; script-src 'self';.*frame-ancestors 'none'/);
    else expect(policy).toBeNull();
    const notFound = await t.request('GET', '/no-such-page');
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('content-security-policy')).toBe(policy);

    for (const path of ['/healthz', '/v1/whoami', '/openapi.json', '/console/session/refresh']) {
      const answer = await t.request(path === '/console/session/refresh' ? 'POST' : 'GET', path);
      expect(answer.headers.get('content-security-policy'), path).toBeNull();
      expect(answer.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });
});
