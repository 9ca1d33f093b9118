import { expect, test, type Page } from '@playwright/test';
import { Secret, TOTP } from 'otpauth';
import { ADMIN, shot, signIn as signInAt, startDaemon, type E2eDaemon } from './support/daemon.js';

let daemon: E2eDaemon;
test.beforeAll(async () => {
  daemon = await startDaemon();
});
test.afterAll(async () => daemon?.stop());

const signIn = (page: Page, path = '') => signInAt(page, `${daemon.url}/${path}`);

test.describe.configure({ mode: 'serial' });

test('first run: setup signs the admin in; the session survives a reload without any token in storage', async ({
  page,
}) => {
  await page.goto(daemon.url);
  await expect(page.getByRole('heading', { name: 'Welcome to Gatehouse' })).toBeVisible();
  await shot(page, '01-setup');
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create admin' }).click();
  await expect(page.locator('.field-error')).toContainText(/10/);
  await shot(page, '02-setup-invalid');
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Create admin' }).click();
  // The console opens on the project's overview.
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await page.getByRole('link', { name: 'All agents: 0' }).click();
  await expect(page.getByText('No agents yet')).toBeVisible();
  await shot(page, '03-agents-empty');

  await page.reload();
  await expect(page.getByRole('heading', { name: 'Agents' })).toBeVisible();
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }) + document.cookie);
  expect(stored).not.toMatch(/eyJ|ghp_|agent_/); // no JWT, token or key; the refresh cookie is HttpOnly
});

test('a new browser must sign in; a wrong password is refused; sign out ends the session', async ({ page }) => {
  await page.goto(daemon.url);
  await expect(page.getByRole('heading', { name: 'Sign in to Gatehouse' })).toBeVisible();
  await page.getByLabel('Username').fill(ADMIN.username);
  // A wrong password is a secret too: a typo of the real one.
  daemon.secrets('not the password');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await shot(page, '04-login-failed');
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to Gatehouse' })).toBeVisible();
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Sign in to Gatehouse' })).toBeVisible();
});

test('an agent from creation to resume: the key is shown once, works, rotates and is revoked', async ({ page }) => {
  await signIn(page, '#/agents');
  await page.getByRole('button', { name: 'Create agent' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create agent' });
  await dialog.getByLabel('Name').fill('bad/name');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(dialog.locator('.field-error')).toBeVisible();
  await shot(page, '05-create-agent-invalid');

  await dialog.getByLabel('Name').fill('researcher');
  await dialog.getByLabel('Description').fill('Web research agent');
  await dialog.getByLabel('Provider').fill('Anthropic');
  await dialog.getByRole('button', { name: 'Create' }).click();

  const once = page.getByRole('dialog', { name: "The agent's API key" });
  const secret = (await once.getByTestId('plaintext-secret').textContent())!.trim();
  expect(secret).toMatch(/^agent_[0-9A-Za-z]{8}_[0-9A-Za-z]{38}$/);
  daemon.secrets(secret);
  await expect(once).toContainText('agent:default/researcher');
  await shot(page, '06-plaintext-once');

  // The key shown authenticates the agent against the API.
  const whoami = await fetch(`${daemon.url}/v1/whoami`, { headers: { authorization: `Bearer ${secret}` } });
  expect(whoami.status).toBe(200);
  expect(((await whoami.json()) as { agent: { name: string } }).agent.name).toBe('researcher');

  await once.getByRole('button', { name: 'Copy' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await once.getByRole('button', { name: 'Done' }).click();
  await expect(once.getByRole('group', { name: 'Did you save it?' })).toBeVisible();
  await once.getByRole('button', { name: 'Yes, close' }).click();
  await expect(once).toBeHidden();
  await expect(page.getByRole('link', { name: 'researcher' })).toBeVisible();
  await shot(page, '07-agents');

  await page.getByRole('link', { name: 'researcher' }).click();
  await expect(page.getByRole('heading', { name: 'researcher' })).toBeVisible();
  await shot(page, '08-agent-overview');
  // The tabs follow the arrow keys, as tabs do.
  await page.getByRole('tab', { name: 'Overview' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tab', { name: 'Keys' })).toBeFocused();
  await expect(page.getByRole('tab', { name: 'Keys' })).toHaveAttribute('aria-selected', 'true');
  await page.getByRole('tab', { name: 'Keys' }).click();
  await expect(page.getByRole('cell', { name: /agent_.*…/ })).toHaveCount(1);
  expect(await page.content()).not.toContain(secret);
  await shot(page, '09-agent-keys');

  await page.getByRole('button', { name: 'Rotate' }).click();
  const rotate = page.getByRole('dialog', { name: 'Rotate key' });
  await rotate.getByLabel('Grace period').selectOption('0');
  await rotate.getByRole('button', { name: 'Rotate' }).click();
  const rotated = page.getByRole('dialog', { name: 'New API key' });
  const newSecret = (await rotated.getByTestId('plaintext-secret').textContent())!.trim();
  expect(newSecret).not.toBe(secret);
  daemon.secrets(newSecret);
  await rotated.getByRole('button', { name: 'Done' }).click();
  await rotated.getByRole('button', { name: 'Yes, close' }).click();
  expect((await fetch(`${daemon.url}/v1/whoami`, { headers: { authorization: `Bearer ${secret}` } })).status).toBe(401);
  expect((await fetch(`${daemon.url}/v1/whoami`, { headers: { authorization: `Bearer ${newSecret}` } })).status).toBe(
    200,
  );

  await page.getByRole('button', { name: 'Revoke', exact: true }).click();
  const confirmRevoke = page.getByRole('alertdialog', { name: /^Revoke key / });
  await expect(confirmRevoke).toContainText('Agents using this key are refused at once');
  await shot(page, '10a-confirm-revoke-key');
  await confirmRevoke.getByRole('button', { name: 'Revoke key' }).click();
  await expect(page.getByRole('button', { name: 'Revoke', exact: true })).toHaveCount(0);
  expect((await fetch(`${daemon.url}/v1/whoami`, { headers: { authorization: `Bearer ${newSecret}` } })).status).toBe(
    401,
  );
  await shot(page, '10-agent-keys-revoked');

  await page.getByRole('button', { name: 'Suspend' }).click();
  await expect(page.locator('.toolbar .badge')).toHaveText('suspended');
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(page.locator('.toolbar .badge')).toHaveText('active');

  await page.getByRole('tab', { name: 'Identity' }).click();
  await expect(page.getByLabel('Public key')).toContainText('BEGIN PUBLIC KEY');
  await shot(page, '11-agent-identity');
  await page.getByRole('tab', { name: 'Activity' }).click();
  await expect(page.getByText('agent.suspended').or(page.getByText('agent.resumed')).first()).toBeVisible();
  await shot(page, '12-agent-activity');
});

test('an agent revoked for good cannot be resumed, and a deleted one is gone', async ({ page }) => {
  await signIn(page, '#/agents');
  await page.getByRole('button', { name: 'Create agent' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create agent' });
  await dialog.getByLabel('Name').fill('short-lived');
  await dialog.getByLabel('Issue an API key now').uncheck();
  await dialog.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('link', { name: 'short-lived' }).click();

  await page.getByRole('button', { name: 'Revoke for good' }).click();
  await page
    .getByRole('alertdialog', { name: 'Revoke short-lived for good?' })
    .getByRole('button', { name: 'Revoke for good' })
    .click();
  await expect(page.locator('.toolbar .badge')).toHaveText('revoked');
  await expect(page.getByRole('button', { name: 'Resume' })).toHaveCount(0);
  await shot(page, '12b-agent-revoked');

  // The filter is in the URL: a link or a reload shows the same list.
  await page.getByRole('link', { name: '← Agents' }).click();
  await page.getByLabel('Status').selectOption('revoked');
  await expect(page).toHaveURL(/#\/agents\?.*status=revoked/);
  await page.reload();
  await expect(page.getByLabel('Status')).toHaveValue('revoked');
  await expect(page.getByRole('link', { name: 'short-lived' })).toBeVisible();
  await shot(page, '12c-agents-filtered-after-reload');
  await page.getByRole('link', { name: 'short-lived' }).click();

  await page.getByRole('button', { name: 'Delete' }).click();
  await page
    .getByRole('alertdialog', { name: 'Delete short-lived?' })
    .getByRole('button', { name: 'Delete agent' })
    .click();
  await expect(page.getByRole('heading', { name: 'Agents' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'short-lived' })).toHaveCount(0);
});

test('settings show the daemon, in light and dark', async ({ page }) => {
  await signIn(page, '#/settings');
  await expect(page.getByText('Data directory')).toBeVisible();
  await expect(page.getByText(daemon.home, { exact: true })).toBeVisible();
  await shot(page, '13-settings');
  await page.getByLabel('Theme').selectOption('dark');
  await shot(page, '14-settings-dark');
  await page.goto(`${daemon.url}/#/agents`);
  await shot(page, '15-agents-dark');
  // The choice is remembered on this machine.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Agents' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
});

test('approvals arrive live and are decided; permissions and the audit chain are shown', async ({ page }) => {
  const api = async (method: string, path: string, token: string, body?: unknown) => {
    const response = await fetch(`${daemon.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json().catch(() => null)) as any };
  };
  const login = await fetch(`${daemon.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  const admin = ((await login.json()) as { access_token: string }).access_token;
  for (const name of ['send_email', 'web_search']) await api('POST', '/admin/tools', admin, { name });
  const mailer = await api('POST', '/admin/agents', admin, {
    name: 'mailer',
    allowed_tools: ['send_email'],
    issue_key: true,
  });
  const agentKey = mailer.body.agent_key.api_key as string;
  daemon.secrets(agentKey);
  await api('PUT', '/admin/agents/mailer/approval-required-tools', admin, { tools: ['send_email'] });

  await signIn(page, '#/approvals');
  await expect(page.getByText('Nothing waits for a decision.')).toBeVisible();
  const asked = await api('POST', '/v1/approvals', agentKey, {
    tool: 'send_email',
    summary: 'Send the weekly report to ops@',
    idempotency_key: 'report-1',
  });
  expect(asked.status).toBe(201);
  // No reload: the event stream brings it in.
  const row = page.getByRole('row', { name: /Send the weekly report/ });
  await expect(row).toBeVisible({ timeout: 10_000 });
  await shot(page, '16-approvals-pending');
  await row.getByRole('button', { name: 'Approve' }).click();
  await expect(page.getByText('Nothing waits for a decision.')).toBeVisible();
  expect((await api('GET', `/v1/approvals/${asked.body.id}`, agentKey)).body.status).toBe('approved');

  await page.goto(`${daemon.url}/#/agents/mailer`);
  await page.getByRole('tab', { name: 'Permissions' }).click();
  await expect(page.getByTestId('effective-tools')).toHaveText('send_email');
  await page.getByRole('button', { name: 'Grant' }).click(); // `*`
  await expect(page.getByTestId('effective-tools')).toHaveText('send_email, web_search');
  await shot(page, '17-agent-permissions');

  await page.goto(`${daemon.url}/#/audit`);
  await expect(page.getByRole('status').filter({ hasText: 'Chain verified' })).toBeVisible();
  await page.getByLabel('Event type').fill('approval.*');
  await expect(page.getByRole('table', { name: 'Audit events' })).toContainText('approval.');
  await shot(page, '18-audit');

  await page.goto(`${daemon.url}/#/tools`);
  await page.getByLabel('Tool', { exact: true }).fill('file_reader');
  await page.getByRole('button', { name: 'Register tool' }).click();
  await expect(page.getByRole('table', { name: 'Tools' })).toContainText('file_reader');
  await page.getByLabel('Role name').fill('reader');
  await page.getByRole('checkbox', { name: 'file_reader' }).check();
  await page.getByRole('button', { name: 'Create role' }).click();
  await expect(page.getByRole('table', { name: 'Roles' })).toContainText('reader');
  await shot(page, '18b-tools-roles');
});

test('a member of one other project works in it; a member of none is told so', async ({ page }) => {
  const api = async (method: string, path: string, body?: unknown, token?: string) => {
    const response = await fetch(`${daemon.url}${path}`, {
      method,
      headers: {
        ...(token && { authorization: `Bearer ${token}` }),
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return response.json();
  };
  const admin = (await api('POST', '/auth/login', ADMIN)).access_token;
  const research = await api('POST', '/admin/projects', { name: 'Research' }, admin);
  const password = 'a long enough password';
  daemon.secrets(password);
  const member = await api('POST', '/admin/users', { username: 'researcher-only', password }, admin);
  await api('PUT', `/admin/projects/${research.id}/members/${member.id}`, { privilege: 2 }, admin);
  await api('POST', '/admin/users', { username: 'no-projects', password }, admin);

  const signInAs = async (username: string) => {
    await page.goto(daemon.url);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  await signInAs('researcher-only');
  await expect(page.getByLabel('Project')).toHaveValue(research.slug);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await page.getByRole('link', { name: 'All agents: 0' }).click();
  await expect(page.getByText('No agents yet')).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();

  await signInAs('no-projects');
  await expect(page.getByText('You are not a member of any project yet')).toBeVisible();
  await page.getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();
});

test('users and projects; MFA enrolment from the QR secret, then a sign-in with a code', async ({ page }) => {
  await signIn(page, '#/users');
  await page.getByRole('button', { name: 'Create user' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create user' });
  await dialog.getByLabel('Username').fill('operator');
  await dialog.getByLabel('Password').fill('operator password 1');
  daemon.secrets('operator password 1');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('row', { name: /operator/ })).toBeVisible();
  await page.getByLabel('User to add to Default').selectOption({ label: 'operator' });
  await page.getByRole('button', { name: 'Add to Default' }).click();
  await expect(page.getByText('operator — member')).toBeVisible();
  await shot(page, '19-users-projects');

  await page.getByRole('link', { name: ADMIN.username }).click();
  await page.getByRole('button', { name: 'Set up' }).click();
  await expect(page.getByRole('img', { name: /QR code/ })).toBeVisible();
  const secret = (await page.getByTestId('mfa-secret').textContent())!.trim();
  daemon.secrets(secret);
  await shot(page, '20-mfa-enrolment');
  const totp = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
  await page.getByLabel('Code from your authenticator').fill(totp.generate());
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByText('Signing in asks for a code')).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Each code works once: the next step's code (accepted within ±1 step) signs in.
  await page.getByLabel('Authenticator code').fill(totp.generate({ timestamp: Date.now() + 30_000 }));
  await shot(page, '21-login-totp');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
});
