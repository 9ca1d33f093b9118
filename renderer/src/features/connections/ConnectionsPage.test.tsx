// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Connection, ConnectionGrant } from '@gatehouse/shared';
import { agent, fakeBridge, problem, renderConsole } from '../../testing/console.js';

afterEach(cleanup);

const SECRET = 'sk-upstream-secret-1234';

function connectionOf(body: Record<string, any>): Connection {
  return {
    id: `c-${body.name}`,
    project_id: 'p-default',
    name: body.name,
    tool: `connection:${body.name}`,
    base_url: body.base_url,
    injection: body.injection,
    allowed_methods: body.allowed_methods ?? [],
    allowed_paths: body.allowed_paths ?? [],
    description: body.description ?? null,
    oauth: null,
    created_at: '2026-12-05T06:00:00.000Z',
    updated_at: '2026-12-05T06:00:00.000Z',
  };
}

function connectionsBridge() {
  const connections: Connection[] = [];
  const grants: ConnectionGrant[] = [];
  return fakeBridge({
    listConnections: () => ({ ok: true, data: [...connections] }),
    createConnection: ({ body }) => {
      if (connections.some((c) => c.name === body.name))
        return {
          ok: false,
          problem: problem('conflict', 'A connection named openai exists.', [
            { location: 'body.name', message: 'is taken' },
          ]),
        };
      const created = connectionOf(body);
      connections.push(created);
      return { ok: true, data: created };
    },
    deleteConnection: ({ params }) => {
      const at = connections.findIndex((c) => c.name === params.connection);
      return { ok: true, data: connections.splice(at, 1)[0] };
    },
    listAgents: () => ({ ok: true, data: [agent('researcher')], total: 1 }),
    listConnectionGrants: () => ({ ok: true, data: [...grants], total: grants.length }),
    setAgentConnectionGrant: ({ params, body }) => {
      if (body.allowed_paths?.includes('/admin/**'))
        return { ok: false, problem: problem('grant_wider_than_connection', 'openai does not allow /admin/**.') };
      const grant: ConnectionGrant = {
        subject: 'agent',
        name: params.agent,
        allowed_methods: body.allowed_methods ?? [],
        allowed_paths: body.allowed_paths ?? [],
      };
      grants.splice(0, grants.length, grant);
      return { ok: true, data: grant };
    },
  });
}

async function add(fields: Record<string, string>) {
  fireEvent.click(await screen.findByRole('button', { name: 'Add connection' }));
  const dialog = await screen.findByRole('dialog', { name: 'Add connection' });
  for (const [label, value] of Object.entries(fields))
    fireEvent.change(within(dialog).getByLabelText(label), { target: { value } });
  fireEvent.click(within(dialog).getByRole('button', { name: 'Add connection' }));
  return dialog;
}

function oauthBridge(connectedAt: string | null) {
  let connection: Connection = {
    ...connectionOf({
      name: 'github',
      base_url: 'https://api.github.com',
      injection: { kind: 'header', name: 'Authorization', template: 'Bearer {secret}' },
    }),
    oauth: {
      authorization_url: 'https://github.com/login/oauth/authorize',
      token_url: 'https://github.com/login/oauth/access_token',
      revocation_url: null,
      client_id: 'client-1',
      scopes: ['repo'],
      connected_at: connectedAt,
    },
  };
  return fakeBridge({
    listConnections: () => ({ ok: true, data: [connection] }),
    startConnectionOAuth: () => ({
      ok: true,
      data: {
        authorization_url: 'https://github.com/login/oauth/authorize?client_id=client-1&state=s1&code_challenge=c1',
        expires_at: '2026-12-05T06:10:00.000Z',
      },
    }),
    revokeConnectionOAuth: () => {
      connection = { ...connection, oauth: { ...connection.oauth!, connected_at: null } };
      return { ok: true, data: connection };
    },
  });
}

describe('ConnectionsPage', () => {
  it("connects an OAuth connection's account through the provider's address", async () => {
    const bridge = oauthBridge(null);
    renderConsole('/connections', bridge);
    expect(await screen.findByText('OAuth: no account connected yet')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Connect account' }));
    const dialog = await screen.findByRole('dialog', { name: 'Connect an account to github' });
    const link = within(dialog).getByRole('link');
    expect(link.getAttribute('href')).toBe(
      'https://github.com/login/oauth/authorize?client_id=client-1&state=s1&code_challenge=c1',
    );
    expect(bridge.api).toHaveBeenCalledWith('startConnectionOAuth', {
      projectId: 'p-default',
      params: { connection: 'github' },
    });
  });

  it("disconnects an OAuth connection's account only after a confirm", async () => {
    const bridge = oauthBridge('2026-12-05T06:00:00.000Z');
    renderConsole('/connections', bridge);
    fireEvent.click(await screen.findByRole('button', { name: 'Disconnect' }));
    fireEvent.click(screen.getByRole('button', { name: 'Disconnect account' }));
    expect(await screen.findByText('OAuth: no account connected yet')).toBeTruthy();
    expect(bridge.api).toHaveBeenCalledWith('revokeConnectionOAuth', {
      projectId: 'p-default',
      params: { connection: 'github' },
    });
  });

  it('adds a connection, sends its secret once, and never shows it', async () => {
    const bridge = connectionsBridge();
    renderConsole('/connections', bridge);
    expect(await screen.findByText('No connections yet.')).toBeTruthy();
    await add({ Name: 'openai', 'Upstream base URL': 'https://api.openai.com', Secret: SECRET });

    const table = await screen.findByRole('table', { name: 'Connections' });
    expect(within(table).getByText('openai')).toBeTruthy();
    expect(within(table).getByText('Authorization: Bearer {secret}')).toBeTruthy();
    expect(screen.getByRole('status').textContent).toContain('will not be shown again');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(bridge.api).toHaveBeenCalledWith('createConnection', {
      projectId: 'p-default',
      body: {
        name: 'openai',
        base_url: 'https://api.openai.com',
        secret: SECRET,
        injection: { kind: 'header', name: 'Authorization', template: 'Bearer {secret}' },
      },
    });
    expect(document.body.innerHTML).not.toContain(SECRET);
    // Opening the form again starts empty: the secret is nowhere in the page's state.
    fireEvent.click(screen.getByRole('button', { name: 'Add connection' }));
    const again = await screen.findByRole('dialog', { name: 'Add connection' });
    expect((within(again).getByLabelText('Secret') as HTMLInputElement).value).toBe('');
  });

  it('refuses a malformed name or a missing secret before asking the daemon', async () => {
    const bridge = connectionsBridge();
    renderConsole('/connections', bridge);
    const dialog = await add({ Name: 'Has Space', 'Upstream base URL': 'https://x.example' });
    await waitFor(() => expect(within(dialog).getByLabelText('Name').getAttribute('aria-invalid')).toBe('true'));
    expect(within(dialog).getByLabelText('Secret').getAttribute('aria-invalid')).toBe('true');
    expect(bridge.api.mock.calls.some(([route]) => route === 'createConnection')).toBe(false);
  });

  it('puts the daemon’s field error on the field', async () => {
    const bridge = connectionsBridge();
    renderConsole('/connections', bridge);
    await add({ Name: 'openai', 'Upstream base URL': 'https://a.example', Secret: SECRET });
    await screen.findByRole('table', { name: 'Connections' });
    const dialog = await add({ Name: 'openai', 'Upstream base URL': 'https://a.example', Secret: SECRET });
    expect(await within(dialog).findByText('is taken')).toBeTruthy();
  });

  it('sends a query parameter injection, methods and path patterns', async () => {
    const bridge = connectionsBridge();
    renderConsole('/connections', bridge);
    fireEvent.click(await screen.findByRole('button', { name: 'Add connection' }));
    const dialog = await screen.findByRole('dialog', { name: 'Add connection' });
    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'maps' } });
    fireEvent.change(within(dialog).getByLabelText('Upstream base URL'), { target: { value: 'https://maps.example' } });
    fireEvent.change(within(dialog).getByLabelText('Secret'), { target: { value: SECRET } });
    fireEvent.click(within(dialog).getByLabelText('a query parameter'));
    fireEvent.change(await within(dialog).findByLabelText('Query parameter'), { target: { value: 'api_key' } });
    fireEvent.click(within(dialog).getByLabelText('GET'));
    fireEvent.change(within(dialog).getByLabelText(/Paths allowed/), { target: { value: '/v1/**\n\n/geo/*' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add connection' }));
    await waitFor(() =>
      expect(bridge.api).toHaveBeenCalledWith('createConnection', {
        projectId: 'p-default',
        body: {
          name: 'maps',
          base_url: 'https://maps.example',
          secret: SECRET,
          injection: { kind: 'query', name: 'api_key' },
          allowed_methods: ['GET'],
          allowed_paths: ['/v1/**', '/geo/*'],
        },
      }),
    );
    expect(await screen.findByText('?api_key={secret}')).toBeTruthy();
  });

  it('adds an OAuth connection: its endpoints and client, no secret, each required field checked', async () => {
    const bridge = connectionsBridge();
    renderConsole('/connections', bridge);
    fireEvent.click(await screen.findByRole('button', { name: 'Add connection' }));
    const dialog = await screen.findByRole('dialog', { name: 'Add connection' });
    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'github' } });
    fireEvent.change(within(dialog).getByLabelText('Upstream base URL'), {
      target: { value: 'https://api.github.com' },
    });
    fireEvent.click(within(dialog).getByLabelText(/an OAuth account/));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add connection' }));
    await waitFor(() =>
      expect(within(dialog).getByLabelText('Token endpoint').getAttribute('aria-invalid')).toBe('true'),
    );
    expect(bridge.api.mock.calls.some(([route]) => route === 'createConnection')).toBe(false);

    const fill = (label: string, value: string) =>
      fireEvent.change(within(dialog).getByLabelText(label), { target: { value } });
    fill('Authorization endpoint', 'https://github.com/login/oauth/authorize');
    fill('Token endpoint', 'https://github.com/login/oauth/access_token');
    fill('Client ID', 'client-1');
    fill('Client secret (optional)', 'client-secret-1');
    fill('Scopes', 'repo, read:user');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add connection' }));
    await waitFor(() =>
      expect(bridge.api).toHaveBeenCalledWith('createConnection', {
        projectId: 'p-default',
        body: {
          name: 'github',
          base_url: 'https://api.github.com',
          oauth: {
            authorization_url: 'https://github.com/login/oauth/authorize',
            token_url: 'https://github.com/login/oauth/access_token',
            client_id: 'client-1',
            client_secret: 'client-secret-1',
            scopes: ['repo', 'read:user'],
          },
          injection: { kind: 'header', name: 'Authorization', template: 'Bearer {secret}' },
        },
      }),
    );
  });

  it('grants a connection to an agent, narrowed to methods and paths, and edits the narrowing', async () => {
    const bridge = connectionsBridge();
    renderConsole('/connections', bridge);
    await add({ Name: 'openai', 'Upstream base URL': 'https://api.openai.com', Secret: SECRET });
    expect(await screen.findByText('nobody yet')).toBeTruthy();
    fireEvent.click(await screen.findByRole('button', { name: 'Grant' }));
    const dialog = await screen.findByRole('dialog', { name: 'Grant openai' });
    await within(dialog).findByRole('option', { name: 'researcher (active)' });
    fireEvent.change(within(dialog).getByLabelText('Agent'), { target: { value: 'id-researcher' } });
    fireEvent.click(within(dialog).getByLabelText('GET'));
    fireEvent.change(within(dialog).getByLabelText(/^Paths/), { target: { value: '/admin/**' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Grant' }));
    // The daemon refuses a grant wider than its connection: the dialog stays, with the reason.
    expect(await within(dialog).findByText('openai does not allow /admin/**.')).toBeTruthy();
    fireEvent.change(within(dialog).getByLabelText(/^Paths/), { target: { value: '/v1/models\n/v1/models/*' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Grant' }));
    expect(await screen.findByText('agent researcher may now call openai through the broker.')).toBeTruthy();
    expect(bridge.api).toHaveBeenCalledWith('setAgentConnectionGrant', {
      projectId: 'p-default',
      params: { connection: 'openai', agent: 'researcher' },
      body: { allowed_methods: ['GET'], allowed_paths: ['/v1/models', '/v1/models/*'] },
    });
    const granted = await screen.findByRole('list', { name: 'Grants of openai' });
    expect(await within(granted).findByText('GET on /v1/models, /v1/models/*')).toBeTruthy();

    fireEvent.click(within(granted).getByRole('button', { name: 'Narrow' }));
    const edit = await screen.findByRole('dialog', { name: 'Grant of openai to agent researcher' });
    expect((within(edit).getByLabelText('GET') as HTMLInputElement).checked).toBe(true);
    fireEvent.click(within(edit).getByLabelText('GET'));
    fireEvent.click(within(edit).getByRole('button', { name: 'Save grant' }));
    await waitFor(() =>
      expect(bridge.api).toHaveBeenCalledWith('setAgentConnectionGrant', {
        projectId: 'p-default',
        params: { connection: 'openai', agent: 'researcher' },
        body: { allowed_methods: [], allowed_paths: ['/v1/models', '/v1/models/*'] },
      }),
    );
  });

  it('removes a connection only once the confirm dialog is accepted', async () => {
    const bridge = connectionsBridge();
    renderConsole('/connections', bridge);
    await add({ Name: 'openai', 'Upstream base URL': 'https://api.openai.com', Secret: SECRET });
    fireEvent.click(await screen.findByRole('button', { name: 'Remove' }));
    const confirm = screen.getByRole('alertdialog', { name: 'Remove openai?' });
    fireEvent.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(bridge.api.mock.calls.some(([route]) => route === 'deleteConnection')).toBe(false);

    fireEvent.click(screen.getByRole('button', { name: 'Remove' }));
    fireEvent.click(screen.getByRole('button', { name: 'Remove connection' }));
    expect(await screen.findByText('No connections yet.')).toBeTruthy();
    expect(bridge.api).toHaveBeenCalledWith('deleteConnection', {
      projectId: 'p-default',
      params: { connection: 'openai' },
    });
  });
});
