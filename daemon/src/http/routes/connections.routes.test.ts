import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentSessions, startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';

describe('connections: their tool in the registry', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
  });
  afterAll(async () => {
    await t.dispose();
  });

  const createConnection = () =>
    t.request('POST', '/admin/connections', {
      token: admin,
      body: {
        name: 'strict-api',
        base_url: 'http://127.0.0.1:9/',
        secret: 'sk-registry-change-5e1f',
        injection: { kind: 'header', name: 'Authorization', template: 'Bearer {secret}' },
      },
    });

  it('ends the sessions of an agent set to revoke_tokens when its granted connection is deleted or added back', async () => {
    expect((await createConnection()).status).toBe(201);
    const agent = (
      await t.request('POST', '/admin/agents', {
        token: admin,
        body: { name: 'strict-broker', issue_key: true, on_permission_change: 'revoke_tokens' },
      })
    ).body;
    const granted = await t.request('POST', '/admin/agents/strict-broker/tools', {
      token: admin,
      body: { tools: ['connection:strict-api'] },
    });
    expect(granted.status).toBe(200);
    const { signIn, refresh, revocations } = agentSessions(t, admin, agent);

    // Deleted: the grant names a tool no longer registered, so the agent lost it.
    const before = await signIn();
    expect((await t.request('DELETE', '/admin/connections/strict-api', { token: admin })).status).toBe(200);
    expect((await refresh(before)).status).toBe(401);
    expect(await revocations()).toEqual(['user:admin']);
    const lost = await t.request('GET', '/v1/agents/strict-broker/permissions', { token: admin });
    expect(lost.body.effective_tools).not.toContain('connection:strict-api');

    // Added back under the same name: the standing grant grants it again.
    const fresh = await signIn();
    expect((await createConnection()).status).toBe(201);
    expect((await refresh(fresh)).status).toBe(401);
    expect(await revocations()).toEqual(['user:admin', 'user:admin']);
    const regained = await t.request('GET', '/v1/agents/strict-broker/permissions', { token: admin });
    expect(regained.body.effective_tools).toContain('connection:strict-api');
  });
});
