// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fakeBridge, renderConsole } from '../../testing/console.js';

afterEach(cleanup);

beforeAll(() => {
  // React Flow measures its canvas; jsdom has no layout, so the observer only has to exist.
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  };
});

const node = (id: string, node_type: string, y: number) => ({
  id,
  node_type,
  label: null,
  agent: null,
  config: {},
  position_x: 0,
  position_y: y,
  updated_at: '2026-11-23T06:00:00.000Z',
});

describe('WorkflowEditorPage', () => {
  it('shows what validation found, and adds a node below the others', async () => {
    const graph = { nodes: [node('n1', 'start', 40)], edges: [] as unknown[] };
    const bridge = fakeBridge({
      getWorkflowGraph: () => ({ ok: true, data: { ...graph, nodes: [...graph.nodes] } }),
      validateWorkflow: () => ({
        ok: true,
        data: {
          valid: false,
          problems: [{ severity: 'error', message: 'The workflow has no end node.', node_ids: [], edge_ids: [] }],
        },
      }),
      addWorkflowNode: ({ body }) => {
        graph.nodes.push(node('n2', body.node_type, body.position_y));
        return { ok: true, data: graph.nodes.at(-1) };
      },
    });
    renderConsole('/workflows/pipeline', bridge);
    expect(await screen.findByText('The workflow has no end node.')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: '+ end' }));
    await waitFor(() =>
      expect(bridge.api).toHaveBeenCalledWith('addWorkflowNode', {
        projectId: 'p-default',
        params: { name: 'pipeline' },
        body: { node_type: 'end', position_x: 280, position_y: 150 },
      }),
    );
    // The edit refreshes the graph and its validation.
    await waitFor(() =>
      expect(bridge.api.mock.calls.filter(([route]) => route === 'validateWorkflow').length).toBeGreaterThan(1),
    );
  });
});
