// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeBridge, project, renderConsole, signedIn } from '../testing/console.js';

afterEach(cleanup);

describe('Root', () => {
  it('works in the project the URL names, keeps it across screens, and a choice of project goes into the URL', async () => {
    const bridge = fakeBridge({
      listAgents: () => ({ ok: true, data: [], total: 0 }),
      listWorkflows: () => ({ ok: true, data: [], total: 0 }),
    });
    const { router } = renderConsole('/agents?project=research', bridge, {
      projects: [project('default'), project('research')],
    });
    expect(await screen.findByText(/No agents yet/)).toBeTruthy();
    expect(bridge.api).toHaveBeenCalledWith('listAgents', { projectId: 'p-research', query: { limit: 50 } });
    expect((screen.getByLabelText('Project') as HTMLSelectElement).value).toBe('research');

    fireEvent.click(screen.getByRole('link', { name: 'Workflows' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/workflows'));
    expect(router.state.location.search).toEqual({ project: 'research' });
    expect(screen.getByRole('link', { name: 'Workflows' }).getAttribute('aria-current')).toBe('page');

    fireEvent.change(screen.getByLabelText('Project'), { target: { value: 'default' } });
    await waitFor(() => expect(router.state.location.search).toEqual({ project: 'default' }));
    await waitFor(() =>
      expect(bridge.api).toHaveBeenCalledWith('listWorkflows', { projectId: 'p-default', query: { limit: 1000 } }),
    );
  });

  it('opens on the overview of the default project, and tells someone in no project so', async () => {
    const bridge = fakeBridge({ listAgents: () => ({ ok: true, data: [], total: 0 }) });
    const { router } = renderConsole('/', bridge, { projects: [] });
    expect(await screen.findByText(/not a member of any project/)).toBeTruthy();
    expect(router.state.location.pathname).toBe('/overview');
  });

  it('hides the admin screens from a viewer', async () => {
    const bridge = fakeBridge({ listAgents: () => ({ ok: true, data: [], total: 0 }) });
    renderConsole('/agents', bridge, { user: signedIn('viewer') });
    expect(await screen.findByRole('link', { name: 'Agents' })).toBeTruthy();
    expect(screen.queryByRole('link', { name: 'Users' })).toBeNull();
    expect(screen.queryByRole('link', { name: 'Tools' })).toBeNull();
  });

  it('signs out and forgets everything the session had read', async () => {
    const bridge = fakeBridge({ listAgents: () => ({ ok: true, data: [], total: 0 }) });
    bridge.session.logout.mockResolvedValue({ ok: true, data: { status: 'signed_out' } });
    const { client } = renderConsole('/agents', bridge);
    await screen.findByText(/No agents yet/);
    fireEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByRole('heading', { name: 'Sign in to Gatehouse' })).toBeTruthy();
    expect(
      client
        .getQueryCache()
        .getAll()
        .map((query) => query.queryKey[0]),
    ).toEqual(['session']);
  });

  it('stays in the chosen project when something opens a screen without naming one', async () => {
    const bridge = fakeBridge({
      listAgents: () => ({ ok: true, data: [], total: 0 }),
      listApprovals: () => ({ ok: true, data: [], total: 0 }),
    });
    const { router } = renderConsole('/agents?project=research', bridge, {
      projects: [project('default'), project('research')],
    });
    await screen.findByText(/No agents yet/);
    // What the desktop app does from a notification: a new hash, without the project.
    router.history.push('/approvals');
    await waitFor(() => expect(router.state.location.search).toEqual({ project: 'research' }));
    await waitFor(() =>
      expect(bridge.api).toHaveBeenCalledWith('listApprovals', {
        projectId: 'p-research',
        query: { limit: 50, status: 'pending' },
      }),
    );
    const asked = bridge.api.mock.calls.filter(([route]) => route === 'listApprovals').map(([, request]) => request);
    expect(asked).not.toContainEqual(expect.objectContaining({ projectId: 'p-default' }));
  });
});
