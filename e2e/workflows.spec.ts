import { expect, test, type Page } from '@playwright/test';
import { ADMIN, shot, signIn, startDaemon, type E2eDaemon } from './support/daemon.js';

let daemon: E2eDaemon;
test.beforeAll(async () => {
  daemon = await startDaemon();
  const post = (path: string, body: unknown, token?: string) =>
    fetch(`${daemon.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  await post('/auth/setup', ADMIN);
  const { access_token } = (await (await post('/auth/login', ADMIN)).json()) as { access_token: string };
  await post('/admin/agents', { name: 'writer', scopes: ['self:write'] }, access_token);
});
test.afterAll(async () => daemon?.stop());

const node = (page: Page, id: string) => page.locator(`.react-flow__node[data-id="${id}"]`);

/** Drags with the mouse from one element's centre to another's, in steps as a hand would. */
async function drag(page: Page, from: { x: number; y: number }, to: { x: number; y: number }) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 12 });
  await page.mouse.up();
}
const centre = async (page: Page, selector: string) => {
  const box = (await page.locator(selector).boundingBox())!;
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
};

test('builds a workflow with the mouse, sees problems drawn and fixes them, and provisions an agent user', async ({
  page,
}) => {
  await signIn(page, `${daemon.url}/#/workflows`);
  await expect(page.getByText('No workflows yet.')).toBeVisible();
  await page.getByLabel('New workflow').fill('pipeline');
  await page.getByRole('button', { name: 'Create workflow' }).click();
  await page.getByRole('link', { name: 'pipeline' }).click();

  for (const type of ['start', 'agent', 'end']) {
    await page.getByRole('button', { name: `+ ${type}` }).click();
    await expect(page.locator('.react-flow__node')).toHaveCount(['start', 'agent', 'end'].indexOf(type) + 1);
  }
  // Nothing connected, no agent bound: problems drawn on the nodes.
  await expect(page.getByRole('list', { name: 'Validation problems' })).toContainText('has no agent');
  await expect(node(page, 'n2').locator('.graph-node')).toHaveClass(/problem-error/);
  await shot(page, '22-workflow-problems');

  // Drag the end node somewhere else; the position is saved.
  const positionOf = async (id: string) => {
    const response = await fetch(`${daemon.url}/admin/workflows/pipeline/graph`, {
      headers: { authorization: `Bearer ${await adminToken()}` },
    });
    const graph = (await response.json()) as { nodes: Array<{ id: string; position_x: number }> };
    return graph.nodes.find((n) => n.id === id)!.position_x;
  };
  const savedX = await positionOf('n3');
  const before = await centre(page, '.react-flow__node[data-id="n3"]');
  await drag(page, before, { x: before.x + 120, y: before.y + 30 });
  await expect.poll(() => positionOf('n3')).toBeGreaterThan(savedX + 20);
  // The keyboard moves it too (5 px a press), and that is saved as well.
  const draggedX = await positionOf('n3');
  await node(page, 'n3').click(); // selected: arrow keys move the selected nodes
  await node(page, 'n3').focus();
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
  await expect.poll(() => positionOf('n3')).toBe(draggedX + 20);

  // Connect start → agent → end by dragging between handles.
  await drag(
    page,
    await centre(page, '.react-flow__node[data-id="n1"] .react-flow__handle.source'),
    await centre(page, '.react-flow__node[data-id="n2"] .react-flow__handle.target'),
  );
  await expect(page.locator('.react-flow__edge')).toHaveCount(1);
  await drag(
    page,
    await centre(page, '.react-flow__node[data-id="n2"] .react-flow__handle.source'),
    await centre(page, '.react-flow__node[data-id="n3"] .react-flow__handle.target'),
  );
  await expect(page.locator('.react-flow__edge')).toHaveCount(2);

  // Mark the first edge conditional: refused without a condition, accepted with one.
  await page.getByTestId('rf__edge-e1').click({ force: true });
  const edgePanel = page.getByRole('form', { name: 'Edge e1' });
  await edgePanel.getByLabel('Conditional').check();
  await edgePanel.getByRole('button', { name: 'Save' }).click();
  await expect(edgePanel.locator('.field-error')).toContainText('condition');
  await edgePanel.getByRole('textbox', { name: 'Condition' }).fill("output contains 'approved'");
  await edgePanel.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('.react-flow__edge-text')).toHaveText("output contains 'approved'");

  // Bind the agent: the last problem goes away.
  await node(page, 'n2').click();
  const nodePanel = page.getByRole('form', { name: 'Node n2' });
  await nodePanel.getByRole('combobox', { name: /^Agent/ }).selectOption({ label: 'writer (active)' });
  await nodePanel.getByLabel('Label').fill('Writer');
  await nodePanel.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('No problems found.')).toBeVisible();
  await expect(node(page, 'n2')).toContainText('writer');
  await shot(page, '23-workflow-valid');

  // Provision the node's agent user: credentials shown; a second time, the same key, "already existed".
  await page.getByRole('button', { name: 'Provision agent user' }).click();
  const dialog = page.getByRole('dialog', { name: 'Credentials of agent_pipeline_n2' });
  const key = (await dialog.getByTestId('plaintext-secret').textContent())!.trim();
  expect(key).toMatch(/^agent_/);
  await expect(dialog).toContainText(/Saved in the OS keychain: .*account “agent-key:/);
  await shot(page, '24-agent-user');
  await dialog.getByRole('button', { name: 'Done' }).click();
  await dialog.getByRole('button', { name: 'Yes, close' }).click();
  await page.getByRole('button', { name: 'Provision agent user' }).click();
  await expect(dialog.getByTestId('plaintext-note')).toContainText('already existed');
  expect((await dialog.getByTestId('plaintext-secret').textContent())!.trim()).toBe(key);
  const whoami = await fetch(`${daemon.url}/v1/whoami`, { headers: { authorization: `Bearer ${key}` } });
  expect(((await whoami.json()) as { identity: { username: string } }).identity.username).toBe('agent_pipeline_n2');
});

async function adminToken(): Promise<string> {
  const response = await fetch(`${daemon.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}
