// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { McpServer } from '@gatehouse/shared';
import { agent, fakeBridge, problem, renderConsole } from '../../testing/console.js';

afterEach(cleanup);

const server = (name: string, fields: Partial<McpServer> = {}): McpServer => ({
  id: `s-${name}`,
  project_id: 'p-default',
  name,
  transport: 'stdio',
  command: 'npx',
  args: ['-y', '@modelcontextprotocol/server-everything'],
  env: {},
  secret_env: [],
  url: null,
  has_credential: false,
  credential_header: null,
  enabled: true,
  status: 'running',
  last_error: null,
  tools: [
    { name: `${name}.echo`, upstream_name: 'echo', description: 'Echoes back' },
    { name: `${name}.add`, upstream_name: 'add', description: 'Adds' },
  ],
  created_at: '2026-12-05T06:00:00.000Z',
  updated_at: '2026-12-05T06:00:00.000Z',
  ...fields,
});

function daemon(initial: McpServer[] = []) {
  const servers = [...initial];
  const granted: string[] = [];
  const bridge = fakeBridge({
    listServers: () => ({ ok: true, data: [...servers] }),
    createServer: ({ body }) => {
      if (servers.some((s) => s.name === body.name))
        return { ok: false, problem: { ...problem('conflict', 'Taken.'), status: 409 } };
      const created = server(body.name, { ...body, status: 'starting', tools: [] });
      servers.push(created);
      return { ok: true, data: created };
    },
    listAgents: () => ({ ok: true, data: [agent('researcher')], total: 1 }),
    getAgentPermissions: () => ({
      ok: true,
      data: {
        agent_id: 'id-researcher',
        permissions_version: 1,
        allowed_tools: [...granted],
        approval_required_tools: [],
        roles: [],
        effective_tools: [...granted],
      },
    }),
    grantTools: ({ body }) => {
      granted.push(...body.tools);
      return { ok: true, data: agent('researcher') };
    },
  });
  return { bridge, servers };
}

describe('ServersPage', () => {
  it('registers a stdio server with its arguments one per line and a secret variable, refusing a bad name first', async () => {
    const { bridge } = daemon();
    renderConsole('/servers', bridge);
    fireEvent.click(await screen.findByRole('button', { name: 'Register server' }));
    const dialog = screen.getByRole('dialog', { name: 'Register MCP server' });
    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'Has.Dot' } });
    fireEvent.change(within(dialog).getByLabelText('Command'), { target: { value: 'npx' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Register' }));
    await waitFor(() => expect(within(dialog).getByLabelText('Name').getAttribute('aria-invalid')).toBe('true'));
    expect(bridge.api.mock.calls.some(([route]) => route === 'createServer')).toBe(false);

    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'everything' } });
    fireEvent.change(within(dialog).getByLabelText('Arguments (one per line)'), {
      target: { value: '-y\n@modelcontextprotocol/server-everything\n' },
    });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add secret variable' }));
    fireEvent.change(within(dialog).getByLabelText('Secret variable'), { target: { value: 'API_TOKEN' } });
    fireEvent.change(within(dialog).getByLabelText('Value'), { target: { value: 's3cret' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Register' }));
    await waitFor(() =>
      expect(bridge.api).toHaveBeenCalledWith('createServer', {
        projectId: 'p-default',
        body: {
          name: 'everything',
          transport: 'stdio',
          command: 'npx',
          args: ['-y', '@modelcontextprotocol/server-everything'],
          secret_env: { API_TOKEN: 's3cret' },
        },
      }),
    );
    const region = await screen.findByRole('region', { name: 'Server everything' });
    expect(within(region).getByText('No tools discovered yet.')).toBeTruthy();
  });

  it("shows a server's tools and grants one to the chosen agent", async () => {
    const { bridge } = daemon([
      server('everything'),
      server('broken', { status: 'failed', last_error: 'spawn ENOENT', tools: [] }),
    ]);
    renderConsole('/servers?server=everything', bridge);
    const rows = within(await screen.findByRole('table', { name: 'Tool servers' })).getAllByRole('row');
    expect(rows[2]!.textContent).toContain('spawn ENOENT');
    const region = screen.getByRole('region', { name: 'Server everything' });
    const grant = within(region).getByRole('button', { name: 'Grant everything.echo' }) as HTMLButtonElement;
    expect(grant.disabled).toBe(true);
    await waitFor(() => expect(within(region).getAllByRole('option').length).toBe(2));
    fireEvent.change(within(region).getByLabelText('Grant to agent'), { target: { value: 'id-researcher' } });
    await waitFor(() => expect(grant.disabled).toBe(false));
    fireEvent.click(grant);
    expect(await within(region).findByText('Granted to researcher')).toBeTruthy();
    expect(bridge.api).toHaveBeenCalledWith('grantTools', {
      projectId: 'p-default',
      params: { name: 'researcher' },
      body: { tools: ['everything.echo'] },
    });
  });
});
