// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeBridge, problem, renderConsole } from '../../testing/console.js';

afterEach(cleanup);

/** The projects panel sits on the Users screen (admins). */
function projectsBridge() {
  let members = [{ user_id: 'u-amy', username: 'amy', privilege: 1 }];
  return fakeBridge({
    listUsers: () => ({ ok: true, data: [], total: 0 }),
    listMembers: () => ({ ok: true, data: [...members] }),
    removeMember: ({ params }) => {
      members = members.filter((m) => m.user_id !== params.user_id);
      return { ok: true, data: null };
    },
    createProject: ({ body }) =>
      body.name === 'Default'
        ? { ok: false, problem: problem('conflict', 'Taken.', [{ location: 'body.name', message: 'is taken' }]) }
        : { ok: true, data: { id: 'p-lab', slug: 'lab', name: body.name } },
  });
}

const calls = (bridge: ReturnType<typeof fakeBridge>, route: string) =>
  bridge.api.mock.calls.filter(([name]) => name === route).length;

describe('ProjectsPanel', () => {
  it("creates a project; the daemon's refusal of the name is shown on the field", async () => {
    const bridge = projectsBridge();
    renderConsole('/users', bridge);
    const name = await screen.findByLabelText('New project');
    const create = screen.getByRole('button', { name: 'Create project' }) as HTMLButtonElement;
    expect(create.disabled).toBe(true);

    fireEvent.change(name, { target: { value: 'Default' } });
    fireEvent.click(create);
    expect(await screen.findByText('is taken')).toBeTruthy();
    expect(name.getAttribute('aria-invalid')).toBe('true');

    const listed = calls(bridge, 'listProjects');
    fireEvent.change(name, { target: { value: 'Research Lab' } });
    fireEvent.click(create);
    await waitFor(() => expect((name as HTMLInputElement).value).toBe(''));
    expect(bridge.api).toHaveBeenCalledWith('createProject', { body: { name: 'Research Lab' } });
    // The list of projects is read again (the project picker and this panel show the new one).
    await waitFor(() => expect(calls(bridge, 'listProjects')).toBeGreaterThan(listed));
  });

  it('removes a member and shows the project without them', async () => {
    const bridge = projectsBridge();
    renderConsole('/users', bridge);
    expect(await screen.findByText(/amy — admin/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Remove' }));
    expect(await screen.findByText(/No members/)).toBeTruthy();
    expect(bridge.api).toHaveBeenCalledWith('removeMember', { params: { id: 'p-default', user_id: 'u-amy' } });
  });
});
