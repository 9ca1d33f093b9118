import { expect, test } from '@playwright/test';
import { ADMIN, shot, signIn, startDaemon, type E2eDaemon } from './support/daemon.js';

/*
 * The admin's side of the OAuth authorization server in the console: the three ways a client may
 * register, each switched on or off, and clients pre-registered by hand (a confidential one's
 * secret shown once), then deleted. Each change is checked against the daemon itself.
 */

let daemon: E2eDaemon;

test.beforeAll(async () => {
  daemon = await startDaemon();
  const setup = await fetch(`${daemon.url}/auth/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  expect(setup.status).toBe(201);
});
test.afterAll(async () => {
  await daemon?.stop();
});

const dynamicRegistration = () =>
  fetch(`${daemon.url}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none' }),
  });

test('an admin pre-registers a public and a confidential client, switches registration methods and deletes a client', async ({
  page,
}) => {
  await signIn(page, `${daemon.url}/#/oauth`);
  await expect(page.getByRole('heading', { name: 'OAuth clients' })).toBeVisible();
  await expect(page.getByText('No client is pre-registered.')).toBeVisible();
  await shot(page, '60-oauth-clients-empty');

  // A public client: no secret, so nothing to show but the list.
  await page.getByRole('button', { name: 'Register client' }).click();
  const dialog = page.getByRole('dialog', { name: 'Register OAuth client' });
  await dialog.getByLabel('Name').fill('Team IDE');
  await dialog.getByRole('button', { name: 'Register' }).click();
  await expect(dialog.getByText('Must not have fewer than 1 items.')).toBeVisible();
  await shot(page, '61-oauth-register-invalid');
  await dialog.getByLabel(/Redirect URIs/).fill('http://127.0.0.1/callback');
  await dialog.getByRole('button', { name: 'Register' }).click();
  const table = page.getByRole('table', { name: 'Pre-registered clients' });
  await expect(table.getByRole('row').filter({ hasText: 'Team IDE' })).toContainText('public');

  // A confidential client: its secret is shown once.
  await page.getByRole('button', { name: 'Register client' }).click();
  await dialog.getByLabel('Name').fill('Build service');
  await dialog.getByLabel(/Redirect URIs/).fill('https://build.example/oauth/callback\nhttp://127.0.0.1/callback');
  await dialog.getByLabel(/Confidential/).check();
  await shot(page, '62-oauth-register-confidential');
  await dialog.getByRole('button', { name: 'Register' }).click();
  const secretDialog = page.getByRole('dialog', { name: 'Client secret for Build service' });
  const secret = (await secretDialog.getByTestId('plaintext-secret').textContent())!;
  expect(secret).toMatch(/^[\w-]{43}$/);
  daemon.secrets(secret);
  await shot(page, '63-oauth-client-secret-once');
  await secretDialog.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('button', { name: 'Yes, close' }).click();
  await expect(secretDialog).toBeHidden();
  await expect(table.getByRole('row')).toHaveCount(3);
  await expect(table).not.toContainText(secret);
  await shot(page, '64-oauth-clients-listed');

  // The secret the page showed is the client's: it authenticates at the token endpoint, where a
  // wrong one is refused as invalid_client before the grant is looked at.
  const clientId = (await table
    .getByRole('row')
    .filter({ hasText: 'Build service' })
    .locator('code')
    .first()
    .textContent())!;
  const tokenWith = (password: string) =>
    fetch(`${daemon.url}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:${password}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'unknown-code',
        code_verifier: 'x'.repeat(43),
        redirect_uri: 'http://127.0.0.1/callback',
      }),
    }).then(async (response) => ((await response.json()) as { error: string }).error);
  expect(await tokenWith('wrong')).toBe('invalid_client');
  expect(await tokenWith(secret)).toBe('invalid_grant');

  // Dynamic Client Registration off: the daemon's registration endpoint refuses.
  expect((await dynamicRegistration()).status).toBe(201);
  const dcr = page.getByRole('checkbox', { name: /Dynamic Client Registration/ });
  await dcr.click();
  await expect(dcr).not.toBeChecked();
  await expect(page.getByRole('checkbox', { name: /Client ID Metadata Documents/ })).toBeChecked();
  await shot(page, '65-oauth-dcr-off');
  expect((await dynamicRegistration()).status).toBe(403);
  await page.reload();
  await expect(page.getByRole('checkbox', { name: /Dynamic Client Registration/ })).not.toBeChecked();

  // Deleting a client asks first; then it is gone from the daemon too.
  await table.getByRole('row').filter({ hasText: 'Team IDE' }).getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('alertdialog')).toContainText('Delete Team IDE?');
  await shot(page, '66-oauth-delete-confirm');
  await page.getByRole('button', { name: 'Delete client' }).click();
  await expect(table.getByRole('row')).toHaveCount(2);
  await expect(table).not.toContainText('Team IDE');
  await shot(page, '67-oauth-client-deleted');
});
