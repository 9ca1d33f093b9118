import { createHash, randomBytes } from 'node:crypto';
import type { TestDaemon } from './test-daemon.js';

/*
 * An OAuth public client driven by hand over real HTTP, as a browser and a native app would:
 * registration, the authorization request (keeping the browser's cookies), the admin's answer on
 * the consent API, the redirect back with the code, and the token request.
 */

export const newVerifier = () => randomBytes(32).toString('base64url');
export const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
export const REDIRECT_URI = 'http://127.0.0.1:53124/callback';

/** The browser's cookies, as a Cookie header. */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  keep(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

export interface PendingAuthorization {
  uid: string;
  verifier: string;
  /** Follows the consent API's `redirect_to` in the same browser; returns the redirect to the client. */
  resume(redirectTo: string): Promise<URL>;
}

export async function registerClient(t: TestDaemon, redirectUris = ['http://127.0.0.1/callback']): Promise<string> {
  const response = await fetch(`${t.url}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Test client',
      redirect_uris: redirectUris,
      token_endpoint_auth_method: 'none',
    }),
  });
  if (response.status !== 201) throw new Error(`registration failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { client_id: string }).client_id;
}

/** Starts an authorization request in a fresh browser; it lands on the console's consent page. */
export async function startAuthorization(
  t: TestDaemon,
  clientId: string,
  extra: Record<string, string> = {},
): Promise<PendingAuthorization> {
  const verifier = newVerifier();
  const params = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    code_challenge: challengeOf(verifier),
    code_challenge_method: 'S256',
    scope: 'mcp:tools offline_access',
    state: 'state-123',
    resource: `${t.url}/mcp`,
    prompt: 'consent',
    ...extra,
  });
  return { ...(await openInBrowser(t, new URL(`${t.url}/oauth/authorize?${params}`))), verifier };
}

/**
 * Opens an authorization URL (made by any client) in a fresh browser, which lands on the
 * console's consent page; `resume` later follows the consent API's answer in that same browser.
 */
export async function openInBrowser(
  t: Pick<TestDaemon, 'url'>,
  authorizationUrl: URL,
): Promise<Omit<PendingAuthorization, 'verifier'>> {
  const jar = new CookieJar();
  const response = await fetch(authorizationUrl, { redirect: 'manual' });
  jar.keep(response);
  const location = response.headers.get('location') ?? '';
  const uid = /\/#\/oauth\/consent\/([\w-]+)$/.exec(location)?.[1];
  if (!uid) throw new Error(`no consent redirect: ${response.status} ${location} ${await response.text()}`);
  return {
    uid,
    async resume(redirectTo) {
      let next = new URL(redirectTo, t.url);
      // The authorization endpoint may pass through itself once more before answering the client.
      for (let hops = 0; hops < 5 && next.origin === new URL(t.url).origin; hops++) {
        const answer = await fetch(next, { redirect: 'manual', headers: { cookie: jar.header() } });
        jar.keep(answer);
        const location = answer.headers.get('location');
        if (!location) throw new Error(`no redirect: ${answer.status} ${await answer.text()}`);
        next = new URL(location, next);
      }
      return next;
    },
  };
}

export interface TokenAnswer {
  status: number;
  body: Record<string, any>;
}

export async function tokenRequest(t: TestDaemon, params: Record<string, string>): Promise<TokenAnswer> {
  const response = await fetch(`${t.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

export const exchangeCode = (t: TestDaemon, clientId: string, code: string, verifier: string) =>
  tokenRequest(t, {
    grant_type: 'authorization_code',
    client_id: clientId,
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    resource: `${t.url}/mcp`,
  });

/** Registration, authorization, the admin's approval as `agent`, and the code: the whole happy path up to the token request. */
export async function approvedCode(
  t: TestDaemon,
  admin: string,
  agent: string,
): Promise<{ clientId: string; code: string; verifier: string }> {
  const clientId = await registerClient(t);
  const pending = await startAuthorization(t, clientId);
  const approved = await t.request('POST', `/admin/oauth/requests/${pending.uid}/approve`, {
    token: admin,
    body: { agent },
  });
  if (approved.status !== 200) throw new Error(`approve failed: ${approved.status} ${JSON.stringify(approved.body)}`);
  const back = await pending.resume(approved.body.redirect_to);
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`no code: ${back.href}`);
  return { clientId, code, verifier: pending.verifier };
}
