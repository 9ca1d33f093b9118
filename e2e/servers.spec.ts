import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createRequire } from 'node:module';
import { expect, test } from '@playwright/test';
import { ADMIN, shot, signIn, startDaemon, type E2eDaemon } from './support/daemon.js';

const everything = createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js');

let daemon: E2eDaemon;
let adminToken: string;
let agentKey: string;
const api = async (method: string, path: string, body?: unknown, token = adminToken) =>
  fetch(`${daemon.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

test.beforeAll(async () => {
  daemon = await startDaemon();
  await api('POST', '/auth/setup', ADMIN, '');
  adminToken = ((await (await api('POST', '/auth/login', ADMIN, '')).json()) as { access_token: string }).access_token;
  const researcher = await api('POST', '/admin/agents', { name: 'researcher', issue_key: true });
  agentKey = ((await researcher.json()) as { agent_key: { api_key: string } }).agent_key.api_key;
});
test.afterAll(async () => daemon?.stop());

test('registers a stdio MCP server, shows its tools, grants one to an agent, and approves its waiting call', async ({
  page,
}) => {
  await signIn(page, `${daemon.url}/#/servers`);
  await expect(page.getByText('No tool servers registered.')).toBeVisible();

  // Register @modelcontextprotocol/server-everything as a stdio server the daemon starts.
  await page.getByRole('button', { name: 'Register server' }).click();
  const dialog = page.getByRole('dialog', { name: 'Register MCP server' });
  await dialog.getByLabel('Name', { exact: true }).fill('everything');
  await dialog.getByLabel('Command').fill(process.execPath);
  await dialog.getByLabel('Arguments (one per line)').fill(everything);
  await dialog.getByRole('button', { name: 'Add secret variable' }).click();
  await dialog.getByLabel('Secret variable').fill('EVERYTHING_API_TOKEN');
  daemon.secrets('e2e-secret-value-7c1');
  await dialog.getByLabel('Value', { exact: true }).fill('e2e-secret-value-7c1');
  await shot(page, 'mcp-1-register-server');
  await dialog.getByRole('button', { name: 'Register' }).click();

  const row = page.getByRole('table', { name: 'Tool servers' }).getByRole('row', { name: /everything/ });
  await expect(row).toContainText('running', { timeout: 20_000 });
  const panel = page.getByRole('region', { name: 'Server everything' });
  await expect(panel.getByRole('table', { name: 'Tools of everything' })).toContainText('everything.echo');
  await expect(panel).toContainText('EVERYTHING_API_TOKEN');
  await expect(page.locator('body')).not.toContainText('e2e-secret-value-7c1');
  await shot(page, 'mcp-2-server-tools');

  // Grant everything.echo to the agent.
  await panel.getByRole('combobox', { name: 'Grant to agent' }).selectOption({ label: 'researcher (active)' });
  await panel.getByRole('button', { name: 'Grant everything.echo' }).click();
  await expect(panel).toContainText('Granted to researcher');
  await shot(page, 'mcp-3-tool-granted');

  // The agent calls it through the gateway; it needs a human's approval first.
  await api('PUT', '/admin/agents/researcher/approval-required-tools', { tools: ['everything.echo'] });
  const client = new Client({ name: 'e2e-agent', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${daemon.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${agentKey}` } },
    }),
  );
  expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['everything.echo']);
  const call = client.callTool({ name: 'everything.echo', arguments: { message: 'hello from e2e' } }, undefined, {
    resetTimeoutOnProgress: true,
  });

  await page.getByRole('link', { name: 'Approvals' }).click();
  const request = page.getByRole('row', { name: /everything\.echo/ });
  await expect(request).toContainText('"message":"hello from e2e"');
  await shot(page, 'mcp-4-approval-waiting');
  // The arguments' hash is one long word: the table wraps it and stays within the page's column.
  const table = (await page.getByRole('table', { name: 'Approval requests' }).boundingBox())!;
  const heading = (await page.getByLabel('Show').boundingBox())!;
  expect(table.x + table.width).toBeLessThanOrEqual(heading.x + heading.width + 1);
  await request.getByRole('button', { name: 'Approve' }).click();
  const result = await call;
  expect(JSON.stringify(result.content)).toContain('hello from e2e');
  await page.getByLabel('Show').selectOption('approved');
  await expect(page.getByRole('row', { name: /everything\.echo/ })).toContainText('approved');
  await shot(page, 'mcp-5-call-approved');
  await client.close();
});
