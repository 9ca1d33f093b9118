// @vitest-environment jsdom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WorkflowEdge, WorkflowNode } from '@gatehouse/shared';
import { fakeBridge, problem } from '../../testing/console.js';
import { EdgePanel } from './EdgePanel.js';
import { NodePanel } from './NodePanel.js';

afterEach(cleanup);

function renderWithClient(ui: ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>);
}

const node = {
  id: 'n2',
  node_type: 'tool',
  label: 'Search',
  agent: null,
  config: {},
  position_x: 0,
  position_y: 0,
  updated_at: '2026-11-23T06:00:00.000Z',
} as unknown as WorkflowNode;

const edge = {
  id: 'e1',
  source_node_id: 'n1',
  target_node_id: 'n2',
  edge_type: 'default',
  condition: null,
} as unknown as WorkflowEdge;

describe('NodePanel', () => {
  it('refuses a config that is not a JSON object, and saves one that is', async () => {
    const bridge = fakeBridge({
      listAgents: () => ({ ok: true, data: [], total: 0 }),
      updateWorkflowNode: () => ({ ok: true, data: node }),
    });
    const onChanged = vi.fn(async () => undefined);
    renderWithClient(
      <NodePanel projectId="p1" workflow="pipeline" node={node} onChanged={onChanged} onDeleted={vi.fn()} />,
    );
    const config = screen.getByLabelText('Config (JSON)');
    fireEvent.change(config, { target: { value: '[1, 2]' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(screen.getByText('Config must be a JSON object.')).toBeTruthy();
    expect(bridge.api.mock.calls.some(([route]) => route === 'updateWorkflowNode')).toBe(false);

    fireEvent.change(config, { target: { value: '{"query": "x"}' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(onChanged).toHaveBeenCalled());
    expect(bridge.api).toHaveBeenCalledWith('updateWorkflowNode', {
      projectId: 'p1',
      params: { name: 'pipeline', node_id: 'n2' },
      body: { label: 'Search', agent_id: null, config: { query: 'x' } },
    });
  });

  it('deletes the node only after the confirm dialog says its edges go too', async () => {
    const bridge = fakeBridge({
      listAgents: () => ({ ok: true, data: [], total: 0 }),
      deleteWorkflowNode: () => ({ ok: true, data: null }),
    });
    const onDeleted = vi.fn();
    renderWithClient(
      <NodePanel
        projectId="p1"
        workflow="pipeline"
        node={node}
        onChanged={async () => undefined}
        onDeleted={onDeleted}
      />,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Delete node' }));
    const confirm = screen.getByRole('alertdialog', { name: 'Delete node n2?' });
    expect(confirm.textContent).toContain('every edge to or from it');
    fireEvent.click(within(confirm).getByRole('button', { name: 'Delete node' }));
    await waitFor(() => expect(onDeleted).toHaveBeenCalledOnce());
    expect(bridge.api).toHaveBeenCalledWith('deleteWorkflowNode', {
      projectId: 'p1',
      params: { name: 'pipeline', node_id: 'n2' },
    });
  });
});

describe('EdgePanel', () => {
  it('makes an edge conditional with its condition', async () => {
    const bridge = fakeBridge({ updateWorkflowEdge: () => ({ ok: true, data: edge }) });
    const onChanged = vi.fn();
    renderWithClient(<EdgePanel projectId="p1" workflow="pipeline" edge={edge} onChanged={onChanged} />);
    fireEvent.click(screen.getByLabelText('Conditional'));
    fireEvent.change(screen.getByLabelText('Condition'), { target: { value: "output contains 'ok'" } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(onChanged).toHaveBeenCalledWith(true));
    expect(bridge.api).toHaveBeenCalledWith('updateWorkflowEdge', {
      projectId: 'p1',
      params: { name: 'pipeline', edge_id: 'e1' },
      body: { edge_type: 'conditional', condition: "output contains 'ok'" },
    });
  });

  it('shows the daemon’s refusal of a condition beside it', async () => {
    fakeBridge({
      updateWorkflowEdge: () => ({
        ok: false,
        problem: problem('validation_failed', 'Invalid body', [
          { location: 'body.condition', message: 'a conditional edge needs a condition' },
        ]),
      }),
    });
    renderWithClient(<EdgePanel projectId="p1" workflow="pipeline" edge={edge} onChanged={vi.fn()} />);
    fireEvent.click(screen.getByLabelText('Conditional'));
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('a conditional edge needs a condition')).toBeTruthy();
    expect(screen.getByLabelText('Condition').getAttribute('aria-invalid')).toBe('true');
    expect(screen.queryByRole('alert')).toBeNull();
  });
});
