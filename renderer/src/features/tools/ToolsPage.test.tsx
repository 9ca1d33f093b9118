// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeBridge, renderConsole } from '../../testing/console.js';

afterEach(cleanup);

function registry() {
  const tools = [{ name: 'web_search', description: null }];
  const roles: Array<{ name: string; description: null; tools: string[] }> = [];
  const bridge = fakeBridge({
    listTools: () => ({ ok: true, data: [...tools] }),
    listRoles: () => ({ ok: true, data: [...roles] }),
    createTool: ({ body }) => {
      tools.push({ name: body.name, description: null });
      return { ok: true, data: body };
    },
    deleteTool: ({ params }) => {
      tools.splice(
        tools.findIndex((t) => t.name === params.name),
        1,
      );
      return { ok: true, data: null };
    },
    createRole: ({ body }) => {
      roles.push({ name: body.name, description: null, tools: body.tools });
      return { ok: true, data: body };
    },
  });
  return bridge;
}

describe('ToolsPage', () => {
  it('registers a tool and shows it, refusing a malformed name before asking the daemon', async () => {
    const bridge = registry();
    renderConsole('/tools', bridge);
    const name = await screen.findByLabelText('Tool');
    fireEvent.change(name, { target: { value: 'has space' } });
    fireEvent.click(screen.getByRole('button', { name: 'Register tool' }));
    await waitFor(() => expect(name.getAttribute('aria-invalid')).toBe('true'));
    expect(bridge.api.mock.calls.some(([route]) => route === 'createTool')).toBe(false);

    fireEvent.change(name, { target: { value: 'file_reader' } });
    fireEvent.click(screen.getByRole('button', { name: 'Register tool' }));
    expect(await within(screen.getByRole('table', { name: 'Tools' })).findByText('file_reader')).toBeTruthy();
    expect(bridge.api).toHaveBeenCalledWith('createTool', { body: { name: 'file_reader' } });
  });

  it('removes a tool only once the confirm dialog is accepted', async () => {
    const bridge = registry();
    renderConsole('/tools', bridge);
    fireEvent.click(await screen.findByRole('button', { name: 'Remove' }));
    const confirm = screen.getByRole('alertdialog', { name: 'Remove web_search from the registry?' });
    expect(confirm.textContent).toContain('Every agent loses this tool at once');
    fireEvent.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(bridge.api.mock.calls.some(([route]) => route === 'deleteTool')).toBe(false);

    fireEvent.click(screen.getByRole('button', { name: 'Remove' }));
    fireEvent.click(screen.getByRole('button', { name: 'Remove tool' }));
    await waitFor(() => expect(screen.getByText('No tools registered: agents can use none.')).toBeTruthy());
  });

  it('creates a role with the checked tools', async () => {
    const bridge = registry();
    renderConsole('/tools', bridge);
    fireEvent.change(await screen.findByLabelText('Role name'), { target: { value: 'reader' } });
    fireEvent.click(await screen.findByRole('checkbox', { name: 'web_search' }));
    fireEvent.click(screen.getByRole('button', { name: 'Create role' }));
    await waitFor(() =>
      expect(bridge.api).toHaveBeenCalledWith('createRole', { body: { name: 'reader', tools: ['web_search'] } }),
    );
    expect(await within(screen.getByRole('table', { name: 'Roles' })).findByText('reader')).toBeTruthy();
  });
});
