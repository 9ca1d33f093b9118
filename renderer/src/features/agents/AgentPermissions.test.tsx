// @vitest-environment jsdom
import { cleanup, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { agent, fakeBridge, problem, renderConsole, signedIn } from '../../testing/console.js';

afterEach(cleanup);

describe('Permissions', () => {
  it('shows effective tools, and lets only a super_admin change approval-required tools', async () => {
    const bridge = fakeBridge({
      getAgent: () => ({ ok: true, data: agent('a') }),
      getAgentPermissions: () => ({
        ok: true,
        data: {
          agent_id: 'id-a',
          permissions_version: 4,
          allowed_tools: ['send_email'],
          approval_required_tools: ['send_email'],
          roles: [{ name: 'reader', description: null, tools: ['web_search'] }],
          effective_tools: ['send_email', 'web_search'],
        },
      }),
      listTools: () => ({ ok: true, data: [] }),
      listRoles: () => ({ ok: true, data: [] }),
    });
    renderConsole('/agents/a?tab=Permissions', bridge, { user: signedIn('admin') });
    expect((await screen.findByTestId('effective-tools')).textContent).toBe('send_email, web_search');
    expect((screen.getByRole('checkbox', { name: /needs approval/ }) as HTMLInputElement).disabled).toBe(true);
    expect(screen.getByText(/Only a super_admin/)).toBeTruthy();
  });

  it('says so when the tools or roles to grant cannot be listed, instead of offering only "*"', async () => {
    const bridge = fakeBridge({
      getAgent: () => ({ ok: true, data: agent('a') }),
      getAgentPermissions: () => ({
        ok: true,
        data: {
          agent_id: 'id-a',
          permissions_version: 1,
          allowed_tools: [],
          approval_required_tools: [],
          roles: [],
          effective_tools: [],
        },
      }),
      listTools: () => ({ ok: false, problem: problem('daemon_unavailable', 'The daemon cannot be reached.') }),
      listRoles: () => ({ ok: true, data: [] }),
    });
    renderConsole('/agents/a?tab=Permissions', bridge);
    expect((await screen.findByRole('alert')).textContent).toContain('The daemon cannot be reached.');
  });
});
