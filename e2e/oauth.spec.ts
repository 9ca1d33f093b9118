import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { auth, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { expect, test, type Page } from '@playwright/test';
import { ADMIN, shot, startDaemon, type E2eDaemon } from './support/daemon.js';

/*
 * An MCP client's OAuth flow, with the admin's consent given in the console in Chromium: a public
 * client registers (RFC 7591), sends the browser to the authorization endpoint with PKCE, the
 * console's consent page asks the admin, and the browser lands on the client's loopback redirect
 * URI (RFC 8252) with the code.
 */

let daemon: E2eDaemon;
let admin: string;
// The client's loopback listener: it receives the authorization response, as a native app would.
let callback: Server;
let redirectUri: string;
const received: URL[] = [];

test.beforeAll(async () => {
  daemon = await startDaemon();
  const setup = await fetch(`${daemon.url}/auth/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  expect(setup.status).toBe(201);
  const login = await fetch(`${daemon.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  admin = ((await login.json()) as { access_token: string }).access_token;
  const created = await fetch(`${daemon.url}/admin/agents`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
    body: JSON.stringify({ name: 'assistant', description: 'Acts for the desktop assistant' }),
  });
  expect(created.status).toBe(201);

  callback = createServer((request, response) => {
    const url = new URL(request.url!, redirectUri);
    // The browser also asks for a favicon; only the redirect itself is the answer.
    if (url.pathname === '/callback') received.push(url);
    response.setHeader('content-type', 'text/html');
    response.end('<h1>Signed in to Gatehouse</h1><p>You can close this window.</p>');
  });
  await new Promise<void>((resolve) => callback.listen(0, '127.0.0.1', resolve));
  const address = callback.address() as { port: number };
  redirectUri = `http://127.0.0.1:${address.port}/callback`;
});
test.afterAll(async () => {
  callback?.close();
  await daemon?.stop();
});

test.describe.configure({ mode: 'serial' });

/** Registers a client and opens its authorization request in the page; returns what the token request needs. */
async function startAuthorization(page: Page) {
  const registered = await fetch(`${daemon.url}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Claude Desktop',
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'none',
    }),
  });
  const { client_id } = (await registered.json()) as { client_id: string };
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const authorize = new URL(`${daemon.url}/oauth/authorize`);
  authorize.search = new URLSearchParams({
    client_id,
    response_type: 'code',
    redirect_uri: redirectUri,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    scope: 'mcp:tools offline_access',
    state,
    resource: `${daemon.url}/mcp`,
    prompt: 'consent',
  }).toString();
  await page.goto(authorize.href);
  // A fresh browser: the console asks the admin to sign in first, then shows the request.
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Authorize Claude Desktop' })).toBeVisible();
  return { client_id, verifier, state };
}

test('the admin approves a client as an agent on the consent page; the client gets that agent’s tokens', async ({
  page,
}) => {
  const { client_id, verifier, state } = await startAuthorization(page);
  await expect(page.getByText(redirectUri)).toBeVisible();
  await expect(page.getByRole('list', { name: 'Scopes' })).toContainText('mcp:tools');
  await page.getByLabel('Act as agent').selectOption('assistant');
  await shot(page, 'oauth-01-consent');

  await page.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByRole('heading', { name: 'Signed in to Gatehouse' })).toBeVisible();
  await shot(page, 'oauth-02-back-at-the-client');
  const answer = received.at(-1)!;
  expect(answer.searchParams.get('state')).toBe(state);
  expect(answer.searchParams.get('iss')).toBe(`${daemon.url}/oauth`);

  const tokens = await fetch(`${daemon.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id,
      code: answer.searchParams.get('code')!,
      code_verifier: verifier,
      redirect_uri: redirectUri,
      resource: `${daemon.url}/mcp`,
    }),
  });
  expect(tokens.status).toBe(200);
  expect(await tokens.json()).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools' });
});

test('the agent’s Clients tab lists the connected client; revoking it ends its refresh token', async ({ page }) => {
  const { client_id, verifier } = await startAuthorization(page);
  await page.getByLabel('Act as agent').selectOption('assistant');
  await page.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByRole('heading', { name: 'Signed in to Gatehouse' })).toBeVisible();
  const tokens = (await (
    await fetch(`${daemon.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id,
        code: received.at(-1)!.searchParams.get('code')!,
        code_verifier: verifier,
        redirect_uri: redirectUri,
      }),
    })
  ).json()) as { refresh_token: string };

  await page.goto(`${daemon.url}/#/agents/assistant?tab=Clients`);
  const table = page.getByRole('table', { name: 'Connected clients' });
  await expect(table.getByRole('row')).toHaveCount(3); // the header and the two clients approved
  await shot(page, 'oauth-03-connected-clients');

  const row = table.getByRole('row').filter({ hasText: client_id });
  await row.getByRole('button', { name: 'Revoke' }).click();
  await expect(page.getByRole('alertdialog')).toContainText('Revoke Claude Desktop?');
  await shot(page, 'oauth-04-revoke-confirm');
  await page.getByRole('button', { name: 'Revoke client' }).click();
  await expect(table.getByRole('row')).toHaveCount(2);
  await shot(page, 'oauth-05-revoked');

  const refresh = await fetch(`${daemon.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id, refresh_token: tokens.refresh_token }),
  });
  expect(refresh.status).toBe(400);
  expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });
});

test('the admin denies: the client receives access_denied', async ({ page }) => {
  const { state } = await startAuthorization(page);
  await page.getByRole('button', { name: 'Deny' }).click();
  await expect(page.getByRole('heading', { name: 'Signed in to Gatehouse' })).toBeVisible();
  const answer = received.at(-1)!;
  expect(answer.searchParams.get('error')).toBe('access_denied');
  expect(answer.searchParams.get('state')).toBe(state);
});

test('the MCP TypeScript SDK’s OAuth client, with the consent clicked in the console', async ({ page }) => {
  // What the SDK asks of an application: keep its registration, tokens and verifier; open a browser.
  let information: OAuthClientInformationMixed | undefined;
  let tokens: OAuthTokens | undefined;
  let verifier = '';
  let opened: URL | undefined;
  const client: OAuthClientProvider = {
    redirectUrl: redirectUri,
    clientMetadata: {
      client_name: 'SDK client',
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'mcp:tools offline_access',
    },
    clientInformation: () => information,
    saveClientInformation: (saved) => void (information = saved),
    tokens: () => tokens,
    saveTokens: (saved) => void (tokens = saved),
    redirectToAuthorization: (url) => void (opened = url),
    saveCodeVerifier: (saved) => void (verifier = saved),
    codeVerifier: () => verifier,
  };
  const serverUrl = `${daemon.url}/mcp`;
  expect(await auth(client, { serverUrl })).toBe('REDIRECT');

  await page.goto(opened!.href);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Authorize SDK client' })).toBeVisible();
  await page.getByLabel('Act as agent').selectOption('__new__');
  await page.getByLabel('New agent name').fill('sdk-client');
  await shot(page, 'oauth-06-consent-new-agent');
  await page.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByRole('heading', { name: 'Signed in to Gatehouse' })).toBeVisible();

  const authorizationCode = received.at(-1)!.searchParams.get('code')!;
  expect(await auth(client, { serverUrl, authorizationCode })).toBe('AUTHORIZED');
  expect(tokens).toMatchObject({ token_type: expect.stringMatching(/^bearer$/i), scope: 'mcp:tools' });
  const first = tokens!.refresh_token;
  daemon.secrets(tokens!.access_token, first);
  expect(await auth(client, { serverUrl })).toBe('AUTHORIZED');
  expect(tokens!.refresh_token).not.toBe(first);
  daemon.secrets(tokens!.refresh_token);

  await page.goto(`${daemon.url}/#/agents/sdk-client?tab=Clients`);
  await expect(page.getByRole('table', { name: 'Connected clients' })).toContainText('SDK client');
});
