import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import { ADMIN, shot, signIn, startDaemon, type E2eDaemon } from './support/daemon.js';

const SECRET = 'sk-e2e-upstream-secret-5f2a9c';

let daemon: E2eDaemon;
let upstream: Server;
let upstreamUrl: string;
let agentKey: string;
/** The credential each request reached the upstream with. */
const seenByUpstream: Array<string | undefined> = [];

test.beforeAll(async () => {
  upstream = createServer((request, response) => {
    seenByUpstream.push(request.headers.authorization);
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

  daemon = await startDaemon();
  const post = (path: string, body: unknown, token?: string) =>
    fetch(`${daemon.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  await post('/auth/setup', ADMIN);
  const { access_token } = (await (await post('/auth/login', ADMIN)).json()) as { access_token: string };
  const created = (await (
    await post('/admin/agents', { name: 'researcher', issue_key: true }, access_token)
  ).json()) as {
    agent_key: { api_key: string };
  };
  agentKey = created.agent_key.api_key;
});
test.afterAll(async () => {
  await daemon?.stop();
  upstream?.close();
});

const callBroker = () =>
  fetch(`${daemon.url}/proxy/upstream/v1/hello`, { headers: { authorization: `Bearer ${agentKey}` } });

test('adds a connection, grants it, limits the agent, and sees the use and the refusal', async ({ page }) => {
  await signIn(page, `${daemon.url}/#/connections`);
  await expect(page.getByText('No connections yet.')).toBeVisible();

  // Add: the secret is typed once, masked.
  await page.getByRole('button', { name: 'Add connection' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add connection' });
  await dialog.getByLabel('Name').fill('upstream');
  await dialog.getByLabel('Upstream base URL').fill(upstreamUrl);
  daemon.secrets(SECRET);
  await dialog.getByLabel('Secret', { exact: true }).fill(SECRET);
  await dialog.getByLabel('Description').fill('A local stand-in for a provider');
  await shot(page, '40-connection-add');
  await dialog.getByRole('button', { name: 'Add connection' }).click();
  await expect(page.getByRole('status')).toContainText('will not be shown again');
  const table = page.getByRole('table', { name: 'Connections' });
  await expect(table).toContainText('upstream');
  await expect(table).toContainText('Authorization: Bearer {secret}');
  expect(await page.content()).not.toContain(SECRET);
  await page.reload();
  await expect(table).toContainText('upstream');
  expect(await page.content()).not.toContain(SECRET);
  await shot(page, '41-connections');

  // Not granted yet: the broker refuses and says why.
  const refused = await callBroker();
  expect(refused.status).toBe(403);

  // Grant it to the agent from the connection's row, narrowed to reading /v1/….
  await table.getByRole('button', { name: 'Grant', exact: true }).click();
  const grant = page.getByRole('dialog', { name: 'Grant upstream' });
  await grant.getByRole('combobox').selectOption({ label: 'researcher (active)' });
  await grant.getByLabel('GET').check();
  await grant.getByLabel(/^Paths/).fill('/v1/**');
  await shot(page, '70-connection-grant-narrowed');
  await grant.getByRole('button', { name: 'Grant', exact: true }).click();
  await expect(page.getByRole('status')).toContainText('agent researcher may now call upstream through the broker.');
  const grants = table.getByRole('list', { name: 'Grants of upstream' });
  await expect(grants).toContainText('GET on /v1/**');
  await shot(page, '71-connection-grants');

  // The broker holds the agent to its grant: a write, or a path outside it, is refused and says why.
  const write = await fetch(`${daemon.url}/proxy/upstream/v1/hello`, {
    method: 'POST',
    headers: { authorization: `Bearer ${agentKey}` },
  });
  expect(write.status).toBe(403);
  expect(((await write.json()) as { code: string }).code).toBe('path_not_allowed');
  expect(seenByUpstream).toEqual([]);

  // Limit the agent's use of it: 3 a minute.
  await page.goto(`${daemon.url}/#/agents/researcher?tab=Limits`);
  const form = page.getByRole('form', { name: 'Set a limit' });
  await form.getByLabel('Applies to').selectOption({ label: 'its use of upstream' });
  await form.getByLabel('Requests').fill('3');
  await form.getByRole('button', { name: 'Set limit' }).click();
  const limits = page.getByRole('table', { name: 'Usage limits' });
  await expect(limits).toContainText('0 of 3 per 60 s');

  // Three calls pass with the upstream's secret injected; the fourth is refused with a 429.
  for (let call = 0; call < 3; call++) expect((await callBroker()).status).toBe(200);
  expect(seenByUpstream).toEqual([`Bearer ${SECRET}`, `Bearer ${SECRET}`, `Bearer ${SECRET}`]);
  const over = await callBroker();
  expect(over.status).toBe(429);
  expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(((await over.json()) as { code: string }).code).toBe('limit_reached');
  // The tab reads the counters again on its own.
  await expect(limits).toContainText('3 of 3 per 60 s', { timeout: 15_000 });
  await shot(page, '43-agent-limits');

  // Remove the connection: the agent is refused from its next call.
  await page.goto(`${daemon.url}/#/connections`);
  await page.getByRole('table', { name: 'Connections' }).getByRole('button', { name: 'Remove' }).click();
  await page
    .getByRole('alertdialog', { name: 'Remove upstream?' })
    .getByRole('button', { name: 'Remove connection' })
    .click();
  await expect(page.getByText('No connections yet.')).toBeVisible();
  await shot(page, '44-connections-removed');
  expect((await callBroker()).status).toBe(404);
});
