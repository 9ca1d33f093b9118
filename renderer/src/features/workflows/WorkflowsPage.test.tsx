// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeBridge, problem, renderConsole } from '../../testing/console.js';

afterEach(cleanup);

const workflow = (name: string) => ({
  id: `w-${name}`,
  name,
  slug: name,
  node_count: 2,
  edge_count: 1,
  updated_at: '2026-11-23T06:00:00.000Z',
});

function workflowsBridge() {
  const workflows = [workflow('pipeline')];
  return fakeBridge({
    listWorkflows: () => ({ ok: true, data: [...workflows], total: workflows.length }),
    createWorkflow: ({ body }) =>
      body.name === 'taken'
        ? {
            ok: false,
            problem: problem('conflict', 'A workflow with this name exists.', [
              { location: 'body.name', message: 'already exists in this project' },
            ]),
          }
        : (workflows.push(workflow(body.name)), { ok: true, data: workflow(body.name) }),
    deleteWorkflow: ({ params }) => {
      workflows.splice(
        workflows.findIndex((w) => w.slug === params.name),
        1,
      );
      return { ok: true, data: null };
    },
  });
}

describe('WorkflowsPage', () => {
  it('creates a workflow, and shows the daemon’s refusal beside the name', async () => {
    const bridge = workflowsBridge();
    renderConsole('/workflows', bridge);
    const name = await screen.findByLabelText('New workflow');
    fireEvent.change(name, { target: { value: 'taken' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create workflow' }));
    expect(await screen.findByText('already exists in this project')).toBeTruthy();
    expect(name.getAttribute('aria-invalid')).toBe('true');

    fireEvent.change(name, { target: { value: 'review' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create workflow' }));
    expect(await screen.findByRole('link', { name: 'review' })).toBeTruthy();
    expect((name as HTMLInputElement).value).toBe('');
  });

  it('deletes a workflow once the confirm dialog, naming its agent users, is accepted', async () => {
    const bridge = workflowsBridge();
    renderConsole('/workflows', bridge);
    fireEvent.click(await screen.findByRole('button', { name: 'Delete' }));
    const confirm = screen.getByRole('alertdialog', { name: 'Delete workflow pipeline?' });
    expect(confirm.textContent).toContain('agent users');
    fireEvent.click(within(confirm).getByRole('button', { name: 'Delete workflow' }));
    await waitFor(() => expect(screen.getByText('No workflows yet.')).toBeTruthy());
    expect(bridge.api).toHaveBeenCalledWith('deleteWorkflow', { projectId: 'p-default', params: { name: 'pipeline' } });
  });
});
