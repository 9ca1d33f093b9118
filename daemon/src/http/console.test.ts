import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN, startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';

let t: TestDaemon;
beforeAll(async () => ({ t } = await startWithAdmin()));
afterAll(() => t.dispose());

/** The browser console's session: the refresh token only ever in an HttpOnly cookie. */
it('signs in with a cookie, refreshes with it, and signing out ends the session on the daemon', async () => {
  const signedIn = await t.request('POST', '/console/session', { body: ADMIN });
  expect(signedIn.status).toBe(200);
  expect(Object.keys(signedIn.body).sort()).toEqual(['access_token', 'expires_in']); // no refresh token in the body
  const setCookie = signedIn.headers.get('set-cookie')!;
  expect(setCookie).toMatch(/^gatehouse_refresh=ghr_[^;]+; Path=\/console\/session; HttpOnly; SameSite=Strict/);
  const cookie = setCookie.split(';')[0]!;

  const refreshed = await t.request('POST', '/console/session/refresh', { headers: { cookie } });
  expect(refreshed.status).toBe(200);
  const rotated = refreshed.headers.get('set-cookie')!.split(';')[0]!;
  const access = refreshed.body.access_token as string;
  expect((await t.request('GET', '/v1/whoami', { token: access })).status).toBe(200);

  const signedOut = await t.request('DELETE', '/console/session', { headers: { cookie: rotated } });
  expect(signedOut.status).toBe(204);
  expect(signedOut.headers.get('set-cookie')).toMatch(/^gatehouse_refresh=; .*Max-Age=0/);
  // Ended on the daemon: the access token and the cookie are refused, not only forgotten.
  expect((await t.request('GET', '/v1/whoami', { token: access })).status).toBe(401);
  expect((await t.request('POST', '/console/session/refresh', { headers: { cookie: rotated } })).status).toBe(401);
});
