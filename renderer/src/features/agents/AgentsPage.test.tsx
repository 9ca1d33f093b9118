// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { agent, fakeBridge, problem, project, renderConsole } from '../../testing/console.js';

afterEach(cleanup);

describe('Agents', () => {
  it('shows the empty state, then pages through the total the daemon reports: onward by cursor, back by offset', async () => {
    let total = 0;
    const bridge = fakeBridge({
      listAgents: ({ query }) => {
        const start = query.cursor ? Number(query.cursor.slice('after-'.length)) + 1 : (query.offset ?? 0);
        const count = Math.min(50, total - start);
        return {
          ok: true,
          data: Array.from({ length: count }, (_, i) => agent(`agent-${start + i}`)),
          total,
          ...(start + count < total ? { next: `after-${start + count - 1}` } : {}),
        };
      },
    });
    const view = renderConsole('/agents', bridge);
    expect(await screen.findByText(/No agents yet/)).toBeTruthy();
    view.unmount();

    total = 120;
    const { router } = renderConsole('/agents?project=second', bridge, {
      projects: [project('default'), project('second')],
    });
    expect(await screen.findByText('agent-0')).toBeTruthy();
    expect(screen.getByText('1–50 of 120')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(await screen.findByText('agent-50')).toBeTruthy();
    expect(bridge.api).toHaveBeenLastCalledWith('listAgents', {
      projectId: 'p-second',
      query: { limit: 50, cursor: 'after-49' },
    });
    // The page is in the URL, in the chosen project: a reload or a link shows the same rows.
    expect(router.state.location.search).toEqual({ project: 'second', offset: 50, cursor: 'after-49' });
    expect(screen.getByText('51–100 of 120')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(await screen.findByText('agent-100')).toBeTruthy();
    expect(screen.getByText('101–120 of 120')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Previous' }));
    expect(await screen.findByText('agent-50')).toBeTruthy();
    expect(bridge.api).toHaveBeenLastCalledWith('listAgents', {
      projectId: 'p-second',
      query: { limit: 50, offset: 50 },
    });
  });

  it('puts the daemon’s validation errors beside the field in the create dialog', async () => {
    const bridge = fakeBridge({
      listAgents: () => ({ ok: true, data: [], total: 0 }),
      createAgent: () => ({
        ok: false,
        problem: problem('validation_failed', 'Invalid body', [
          { location: 'body.name', message: 'must not contain /' },
          { location: 'body.system_prompt', message: 'must be at most 20000 characters' },
        ]),
      }),
    });
    renderConsole('/agents', bridge);
    fireEvent.click(await screen.findByRole('button', { name: 'Create agent' }));
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'good-name' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    expect(await screen.findByText('must not contain /')).toBeTruthy();
    expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBe('true');
    // A field without a slot of its own is explained below the form, once; the name's error is not repeated.
    const note = await screen.findByRole('alert');
    expect(note.textContent).toContain('system_prompt: must be at most 20000 characters');
    expect(note.textContent).not.toContain('must not contain /');
  });
});

describe('Agents filters', () => {
  it('reads the status, search and offset from the URL', async () => {
    const bridge = fakeBridge({ listAgents: () => ({ ok: true, data: [agent('found')], total: 1 }) });
    renderConsole('/agents?status=suspended&q=mail&offset=50', bridge);
    expect(await screen.findByText('found')).toBeTruthy();
    expect(bridge.api).toHaveBeenCalledWith('listAgents', {
      projectId: 'p-default',
      query: { limit: 50, offset: 50, status: 'suspended', q: 'mail' },
    });
    expect((screen.getByLabelText('Status') as HTMLSelectElement).value).toBe('suspended');
  });

  it('refuses a bad name on the client with the contract’s schema, before asking the daemon', async () => {
    const bridge = fakeBridge({ listAgents: () => ({ ok: true, data: [], total: 0 }) });
    renderConsole('/agents', bridge);
    fireEvent.click(await screen.findByRole('button', { name: 'Create agent' }));
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'bad/name' } });
    fireEvent.change(screen.getByLabelText('Scopes'), { target: { value: 'NOT A SCOPE' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    await waitFor(() => expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByLabelText('Scopes').getAttribute('aria-invalid')).toBe('true');
    expect(bridge.api.mock.calls.some(([route]) => route === 'createAgent')).toBe(false);
  });

  it('puts what is typed in the URL once the typing pauses, from the first page; going back refills the box', async () => {
    const bridge = fakeBridge({ listAgents: () => ({ ok: true, data: [agent('found')], total: 1 }) });
    const { router } = renderConsole('/agents?offset=50', bridge);
    const box = await screen.findByLabelText('Search');
    fireEvent.change(box, { target: { value: 'mail' } });
    await waitFor(() => expect(router.state.location.search).toEqual({ project: 'default', q: 'mail' }));
    expect(bridge.api).toHaveBeenLastCalledWith('listAgents', {
      projectId: 'p-default',
      query: { limit: 50, q: 'mail' },
    });
    router.history.back();
    await waitFor(() => expect(router.state.location.search).toEqual({ project: 'default', offset: 50 }));
    await waitFor(() => expect((box as HTMLInputElement).value).toBe(''));
    // The box emptied by going back does not push its emptiness forward again.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(router.state.location.search).toEqual({ project: 'default', offset: 50 });
  });
});
