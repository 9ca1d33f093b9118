import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../../testing/sql.js';
import { startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';

describe('workflows — the gateway seed, as written', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
  });
  afterAll(() => t.dispose());

  /** The seed's curl examples send JSON with `Authorization: Bearer $ADMIN_TOKEN`. */
  const curl = async (method: string, path: string, body?: string) => {
    const response = await fetch(`${t.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body } : {}),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  };

  it('creates the agent, grants tools, and builds the approval pipeline graph', async () => {
    for (const name of ['web_search', 'calculator', 'file_reader'])
      await t.request('POST', '/admin/tools', { token: admin, body: { name } });
    const agent = await curl(
      'POST',
      '/admin/agents',
      '{"name":"researcher","backend":"gpt4o","allowed_tools":["web_search"]}',
    );
    expect(agent.status).toBe(201);
    const granted = await curl('POST', '/admin/agents/researcher/tools', '{"tools":["calculator","file_reader"]}');
    expect(granted.status).toBe(200);
    expect([...granted.body.allowed_tools].sort()).toEqual(['calculator', 'file_reader', 'web_search']);

    const created = await curl('POST', '/admin/workflows', '{ "name": "approval-pipeline", "definition": "..." }');
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'approval-pipeline', slug: 'approval-pipeline', definition: '...' });

    for (const path of ['/v1/workflows', '/admin/workflows']) {
      const list = await curl('GET', path);
      expect(list.status).toBe(200);
      expect(list.headers.get('x-total-count')).toBe('1');
      expect(list.body.map((w: { name: string }) => w.name)).toEqual(['approval-pipeline']);
    }
    expect((await curl('GET', '/admin/workflows/approval-pipeline')).body.id).toBe(created.body.id);

    const node = await curl(
      'POST',
      '/admin/workflows/approval-pipeline/graph/nodes',
      '{"node_type": "agent", "agent_id": "researcher", "label": "Research step", "position_x": 100, "position_y": 200}',
    );
    expect(node.status).toBe(201);
    expect(node.body).toMatchObject({
      id: 'n1',
      node_type: 'agent',
      agent_id: 'researcher',
      label: 'Research step',
      position_x: 100,
      position_y: 200,
    });
    const second = await curl('POST', '/admin/workflows/approval-pipeline/graph/nodes', '{"node_type": "end"}');
    expect(second.body.id).toBe('n2');

    const edge = await curl(
      'POST',
      '/admin/workflows/approval-pipeline/graph/edges',
      `{"source_node_id": "n1", "target_node_id": "n2", "edge_type": "conditional", "condition": "output contains 'approved'"}`,
    );
    expect(edge.status).toBe(201);
    expect(edge.body).toMatchObject({
      id: 'e1',
      source_node_id: 'n1',
      target_node_id: 'n2',
      edge_type: 'conditional',
      condition: "output contains 'approved'",
    });

    const graph = await curl('GET', '/admin/workflows/approval-pipeline/graph');
    expect(graph.status).toBe(200);
    expect(graph.body.nodes[0]).toMatchObject({ id: 'n1', node_type: 'agent', agent_id: 'researcher' });
    expect(graph.body.edges[0]).toMatchObject({ id: 'e1', source_node_id: 'n1', target_node_id: 'n2' });
    expect((await curl('GET', '/admin/workflows/approval-pipeline')).body).toMatchObject({
      node_count: 2,
      edge_count: 1,
    });
  });

  it('updates a node’s position, label, config or agent, leaving the rest as it was', async () => {
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'reviewer' } });
    const moved = await curl(
      'PATCH',
      '/admin/workflows/approval-pipeline/graph/nodes/n1',
      '{"position_x": 320.5, "position_y": -40}',
    );
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({
      position_x: 320.5,
      position_y: -40,
      label: 'Research step',
      agent_id: 'researcher',
    });

    const changed = await curl(
      'PATCH',
      '/admin/workflows/approval-pipeline/graph/nodes/n1',
      '{"label": "Review step", "agent_id": "reviewer", "config": {"temperature": 0.2}}',
    );
    expect(changed.body).toMatchObject({
      label: 'Review step',
      agent_id: 'reviewer',
      agent: { name: 'reviewer', status: 'active' },
      config: { temperature: 0.2 },
      position_x: 320.5,
    });
    const cleared = await curl('PATCH', '/admin/workflows/approval-pipeline/graph/nodes/n1', '{"label": null}');
    expect(cleared.body.label).toBeNull();

    const unknownAgent = await curl(
      'PATCH',
      '/admin/workflows/approval-pipeline/graph/nodes/n1',
      '{"agent_id": "ghost"}',
    );
    expect(unknownAgent.status).toBe(400);
    expect(unknownAgent.body.errors).toEqual([
      { location: 'body.agent_id', message: expect.stringContaining('ghost') },
    ]);
    expect((await curl('PATCH', '/admin/workflows/approval-pipeline/graph/nodes/n9', '{"label": "x"}')).status).toBe(
      404,
    );
    expect(
      (await curl('PATCH', '/admin/workflows/approval-pipeline/graph/nodes/n1', '{"node_type": "end"}')).status,
    ).toBe(400);
  });

  it('deletes an edge, and a node together with every edge touching it; ids are never reused', async () => {
    await curl('POST', '/admin/workflows/approval-pipeline/graph/nodes', '{"node_type": "tool"}'); // n3
    await curl(
      'POST',
      '/admin/workflows/approval-pipeline/graph/edges',
      '{"source_node_id": "n2", "target_node_id": "n3"}',
    ); // e2
    await curl(
      'POST',
      '/admin/workflows/approval-pipeline/graph/edges',
      '{"source_node_id": "n1", "target_node_id": "n3"}',
    ); // e3

    const edgeGone = await curl('DELETE', '/admin/workflows/approval-pipeline/graph/edges/e3');
    expect(edgeGone).toMatchObject({ status: 200, body: { deleted: 'e3' } });
    expect((await curl('DELETE', '/admin/workflows/approval-pipeline/graph/edges/e3')).status).toBe(404);

    const nodeGone = await curl('DELETE', '/admin/workflows/approval-pipeline/graph/nodes/n2');
    expect(nodeGone).toMatchObject({ status: 200, body: { deleted: 'n2', deleted_edges: ['e1', 'e2'] } });
    const graph = (await curl('GET', '/admin/workflows/approval-pipeline/graph')).body;
    expect(graph.nodes.map((n: { id: string }) => n.id)).toEqual(['n1', 'n3']);
    expect(graph.edges).toEqual([]);

    expect((await curl('POST', '/admin/workflows/approval-pipeline/graph/nodes', '{"node_type": "end"}')).body.id).toBe(
      'n4',
    );
    expect(
      (
        await curl(
          'POST',
          '/admin/workflows/approval-pipeline/graph/edges',
          '{"source_node_id": "n1", "target_node_id": "n4"}',
        )
      ).body.id,
    ).toBe('e4');
  });

  it('refuses a conditional edge without its condition, and writes nothing', async () => {
    for (const body of [
      '{"source_node_id": "n1", "target_node_id": "n4", "edge_type": "conditional"}',
      '{"source_node_id": "n1", "target_node_id": "n4", "edge_type": "conditional", "condition": "   "}',
    ]) {
      const refused = await curl('POST', '/admin/workflows/approval-pipeline/graph/edges', body);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ code: 'validation_failed', errors: [{ location: 'body.condition' }] });
    }
    const edges = (await curl('GET', '/admin/workflows/approval-pipeline/graph')).body.edges;
    expect(edges.map((e: { id: string }) => e.id)).toEqual(['e4']);
  });

  it('changes an edge to conditional only with its condition, and back to default', async () => {
    const path = '/admin/workflows/approval-pipeline/graph/edges/e4';
    const refused = await curl('PATCH', path, '{"edge_type": "conditional"}');
    expect(refused).toMatchObject({ status: 400, body: { errors: [{ location: 'body.condition' }] } });
    const conditional = await curl('PATCH', path, `{"edge_type": "conditional", "condition": "score > 0.8"}`);
    expect(conditional.body).toMatchObject({ id: 'e4', edge_type: 'conditional', condition: 'score > 0.8' });
    expect((await curl('PATCH', path, '{"condition": null}')).status).toBe(400);
    const plain = await curl('PATCH', path, '{"edge_type": "default"}');
    expect(plain.body).toMatchObject({ edge_type: 'default', condition: null });
    expect(
      (await curl('PATCH', '/admin/workflows/approval-pipeline/graph/edges/e99', '{"edge_type": "default"}')).status,
    ).toBe(404);
  });

  it('keeps names and slugs unique in the project, and finds a workflow by name, slug or id', async () => {
    const created = await curl('POST', '/admin/workflows', '{"name": "Nightly Report!"}');
    expect(created.body).toMatchObject({ name: 'Nightly Report!', slug: 'nightly-report', definition: '' });
    expect((await curl('POST', '/admin/workflows', '{"name": "Nightly Report!"}')).status).toBe(409);
    const sameSlug = await curl('POST', '/admin/workflows', '{"name": "nightly report"}');
    expect(sameSlug.status).toBe(409);
    expect(sameSlug.body.detail).toContain('nightly-report');
    for (const ref of ['Nightly%20Report!', 'nightly-report', created.body.id])
      expect((await curl('GET', `/admin/workflows/${ref}`)).body.id).toBe(created.body.id);
    expect((await curl('POST', '/admin/workflows', '{"name": "!!!"}')).status).toBe(400);
    expect((await curl('GET', '/v1/workflows?q=nightly')).body.map((w: { slug: string }) => w.slug)).toEqual([
      'nightly-report',
    ]);
  });

  it('lets members read workflows but only project admins change them', async () => {
    await t.request('POST', '/admin/users', {
      token: admin,
      body: { username: 'viewer', password: 'viewer password 1' },
    });
    const users = (await t.request('GET', '/admin/users?q=viewer', { token: admin })).body;
    const project = (await t.request('GET', '/admin/projects', { token: admin })).body[0];
    await t.request('PUT', `/admin/projects/${project.id}/members/${users[0].id}`, {
      token: admin,
      body: { privilege: 2 },
    });
    const member = (await t.login('viewer', 'viewer password 1')).body.access_token;
    expect((await t.request('GET', '/admin/workflows/approval-pipeline/graph', { token: member })).status).toBe(200);
    expect((await t.request('GET', '/admin/workflows/approval-pipeline/validate', { token: member })).status).toBe(200);
    const refused = await t.request('POST', '/admin/workflows/approval-pipeline/graph/nodes', {
      token: member,
      body: { node_type: 'end' },
    });
    expect(refused.status).toBe(403);
    expect((await t.request('DELETE', '/admin/workflows/approval-pipeline', { token: member })).status).toBe(403);
  });

  it('deletes a workflow with its graph, and audits every change', async () => {
    const gone = await curl('DELETE', '/admin/workflows/nightly-report');
    expect(gone).toMatchObject({ status: 200, body: { deleted: 'Nightly Report!' } });
    expect((await curl('GET', '/admin/workflows/nightly-report')).status).toBe(404);
    const events = (await curl('GET', '/v1/audit?limit=200')).body.map((e: { event_type: string }) => e.event_type);
    for (const type of [
      'workflow.created',
      'workflow.node_added',
      'workflow.node_updated',
      'workflow.node_deleted',
      'workflow.edge_added',
      'workflow.edge_updated',
      'workflow.edge_deleted',
      'workflow.deleted',
    ])
      expect(events).toContain(type);
  });
});

describe('workflow validation', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    await t.request('POST', '/admin/workflows', { token: admin, body: { name: 'flow' } });
  });
  afterAll(() => t.dispose());

  const add = (kind: 'nodes' | 'edges', body: Record<string, unknown>) =>
    t.request('POST', `/admin/workflows/flow/graph/${kind}`, { token: admin, body });
  const validate = async () => (await t.request('GET', '/admin/workflows/flow/validate', { token: admin })).body;
  const kinds = async () => (await validate()).problems.map((p: { kind: string }) => p.kind).sort();

  it('calls a graph from start through an active agent to end valid', async () => {
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'worker' } });
    await add('nodes', { node_type: 'start' }); // n1
    await add('nodes', { node_type: 'agent', agent_id: 'worker' }); // n2
    await add('nodes', { node_type: 'end' }); // n3
    await add('edges', { source_node_id: 'n1', target_node_id: 'n2' }); // e1
    await add('edges', { source_node_id: 'n2', target_node_id: 'n3' }); // e2
    expect(await validate()).toEqual({ valid: true, problems: [] });
  });

  it('finds each problem kind, pointing at the nodes and edges concerned', async () => {
    await add('nodes', { node_type: 'agent' }); // n4: no agent, and nothing leads to it
    await add('edges', { source_node_id: 'n3', target_node_id: 'n99' }); // e3: to a missing node
    await sqlConditionless();
    await add('edges', { source_node_id: 'n3', target_node_id: 'n2' }); // e5: loop n2 → n3 → n2

    const result = await validate();
    expect(result.valid).toBe(false);
    const byKind = Object.fromEntries(result.problems.map((p: { kind: string }) => [p.kind, p]));
    expect(byKind.agent_missing).toMatchObject({ severity: 'error', node_ids: ['n4'] });
    expect(byKind.edge_missing_node).toMatchObject({ severity: 'error', edge_ids: ['e3'], node_ids: ['n3'] });
    expect(byKind.condition_missing).toMatchObject({ severity: 'error', edge_ids: ['e4'] });
    expect(byKind.unreachable_node).toMatchObject({ severity: 'error', node_ids: ['n4'] });
    expect(byKind.cycle).toMatchObject({ severity: 'warning' });
    expect([...byKind.cycle.node_ids].sort()).toEqual(['n2', 'n3']);
    expect([...byKind.cycle.edge_ids].sort()).toEqual(['e2', 'e5']);

    await t.request('POST', '/admin/agents/worker/revoke', { token: admin });
    expect(await kinds()).toContain('agent_not_active');
  });

  /** A conditional edge stored without a condition (as an older client or a hand edit could leave it). */
  async function sqlConditionless() {
    const edge = await add('edges', {
      source_node_id: 'n1',
      target_node_id: 'n3',
      edge_type: 'conditional',
      condition: 'ok',
    }); // e4
    await sql(t, `UPDATE workflow_edges SET condition = NULL WHERE id = '${edge.body.id}'`);
  }

  it('reports only warnings for a loop: the workflow stays valid', async () => {
    await t.request('POST', '/admin/workflows', { token: admin, body: { name: 'loop' } });
    const loop = (kind: string, body: Record<string, unknown>) =>
      t.request('POST', `/admin/workflows/loop/graph/${kind}`, { token: admin, body });
    await loop('nodes', { node_type: 'start' });
    await loop('nodes', { node_type: 'tool' });
    await loop('edges', { source_node_id: 'n1', target_node_id: 'n2' });
    await loop('edges', { source_node_id: 'n2', target_node_id: 'n2' });
    const result = (await t.request('GET', '/admin/workflows/loop/validate', { token: admin })).body;
    expect(result.valid).toBe(true);
    expect(result.problems).toEqual([expect.objectContaining({ kind: 'cycle', node_ids: ['n2'], edge_ids: ['e2'] })]);
  });

  it('leaves a deleted agent’s node with agent_id null and a validation problem', async () => {
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'temp' } });
    await t.request('POST', '/admin/workflows', { token: admin, body: { name: 'short' } });
    await t.request('POST', '/admin/workflows/short/graph/nodes', {
      token: admin,
      body: { node_type: 'agent', agent_id: 'temp' },
    });
    expect((await t.request('DELETE', '/admin/agents/temp', { token: admin })).status).toBe(200);
    const node = (await t.request('GET', '/admin/workflows/short/graph', { token: admin })).body.nodes[0];
    expect(node).toMatchObject({ id: 'n1', agent_id: null, agent: null });
    const result = (await t.request('GET', '/admin/workflows/short/validate', { token: admin })).body;
    expect(result).toMatchObject({ valid: false, problems: [{ kind: 'agent_missing', node_ids: ['n1'] }] });
  });
});
