// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeBridge, problem, project, renderConsole } from '../../testing/console.js';

afterEach(cleanup);

const user = (username: string, kind = 'human') => ({
  id: `u-${username}`,
  username,
  first_name: null,
  kind,
  role: 'viewer',
  mfa_enabled: false,
  disabled: false,
  created_at: '2026-11-23T06:00:00.000Z',
});

function usersBridge() {
  const users = [user('admin'), user('agent_pipeline_n2', 'agent')];
  const members: Array<{ user_id: string; username: string; privilege: number }> = [];
  return fakeBridge({
    listUsers: () => ({ ok: true, data: [...users], total: users.length }),
    createUser: ({ body }) => {
      if (body.username === 'taken')
        return {
          ok: false,
          problem: problem('conflict', 'Taken.', [{ location: 'body.username', message: 'is taken' }]),
        };
      users.push(user(body.username));
      return { ok: true, data: users.at(-1) };
    },
    listMembers: () => ({ ok: true, data: [...members] }),
    setMember: ({ params, body }) => {
      members.push({ user_id: params.user_id, username: params.user_id.slice(2), privilege: body.privilege });
      return { ok: true, data: members.at(-1) };
    },
    createProject: ({ body }) => ({ ok: true, data: project(body.name) }),
  });
}

describe('UsersPage', () => {
  it('creates a user: a short password is refused on the client, a taken name by the daemon', async () => {
    const bridge = usersBridge();
    renderConsole('/users', bridge);
    fireEvent.click(await screen.findByRole('button', { name: 'Create user' }));
    const dialog = screen.getByRole('dialog', { name: 'Create user' });
    fireEvent.change(within(dialog).getByLabelText('Username'), { target: { value: 'taken' } });
    fireEvent.change(within(dialog).getByLabelText('Password'), { target: { value: 'short' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect(await within(dialog).findByText(/10 characters/)).toBeTruthy();
    expect(bridge.api.mock.calls.some(([route]) => route === 'createUser')).toBe(false);

    fireEvent.change(within(dialog).getByLabelText('Password'), { target: { value: 'a long enough password' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect(await within(dialog).findByText('is taken')).toBeTruthy();

    fireEvent.change(within(dialog).getByLabelText('Username'), { target: { value: 'operator' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(within(screen.getByRole('table', { name: 'Users' })).getByText('operator')).toBeTruthy();
  });

  it('adds a person (never an agent user) to a project', async () => {
    const bridge = usersBridge();
    renderConsole('/users', bridge);
    const pick = await screen.findByLabelText('User to add to default');
    await within(pick).findByRole('option', { name: 'admin' });
    expect(within(pick).queryByRole('option', { name: 'agent_pipeline_n2' })).toBeNull();
    fireEvent.change(pick, { target: { value: 'u-admin' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add to default' }));
    expect(await screen.findByText(/admin — member/)).toBeTruthy();
    expect(bridge.api).toHaveBeenCalledWith('setMember', {
      params: { id: 'p-default', user_id: 'u-admin' },
      body: { privilege: 2 },
    });
  });
});
