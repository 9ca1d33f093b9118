import { randomUUID } from 'node:crypto';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithAdmin, type TestDaemon } from './testing/test-daemon.js';

describe('the agents keychain, reconciled with the database', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => ({ t, admin } = await startWithAdmin()));
  afterAll(() => t.dispose());

  const items = async () =>
    new Map((await keytar.findCredentials(t.keychainService)).map((item) => [item.account, item.password]));
  const createAgent = async (name: string) =>
    (await t.request('POST', '/admin/agents', { token: admin, body: { name, issue_key: true } })).body;
  const authenticates = async (agentId: string, secret: string) =>
    (await t.request('POST', '/v1/auth/token', { body: { agent_id: agentId, secret } })).status === 200;

  it('removes at start what a crash left (orphan key and identity items, aliases of no agent) and repairs an alias holding a dead key', async () => {
    const keeper = await createAgent('keeper');
    const before = await items();
    expect(before.get('agent:default/keeper')).toBe(keeper.agent_key.api_key);

    // What a kill -9 between the keychain writes and the commit leaves: items of rows never
    // committed, and an existing agent's alias overwritten by a key that does not exist.
    await t.stop();
    const deadKey = `gh_agent_${randomUUID().replaceAll('-', '')}`;
    await keytar.setPassword(t.keychainService, `agent-key:${randomUUID()}`, deadKey);
    await keytar.setPassword(t.keychainService, `agent-identity:${randomUUID()}`, 'orphan identity');
    await keytar.setPassword(t.keychainService, 'agent:default/keeper', deadKey);
    await keytar.setPassword(t.keychainService, 'agent:default/never-committed', deadKey);
    t = await t.restart();
    admin = (await t.login('admin', 'correct horse battery staple')).body.access_token;

    expect(await items()).toEqual(before);
    expect(await authenticates(keeper.id, (await items()).get('agent:default/keeper')!)).toBe(true);
    const audit = await t.request('GET', '/v1/audit?event_type=keychain.reconciled', { token: admin });
    expect(audit.body).toHaveLength(1);
    expect(audit.body[0]).toMatchObject({
      actor: 'system',
      metadata: { orphanKeys: 1, orphanIdentities: 1, aliasesRemoved: 1, aliasesRepaired: 1 },
    });

    // A start with nothing to mend changes nothing and records nothing.
    t = await t.restart();
    admin = (await t.login('admin', 'correct horse battery staple')).body.access_token;
    expect(await items()).toEqual(before);
    expect((await t.request('GET', '/v1/audit?event_type=keychain.reconciled', { token: admin })).body).toHaveLength(1);
  });

  it('takes the alias and the key items with a permanent revocation and with a delete', async () => {
    const revoked = await createAgent('revoked-for-good');
    const deleted = await createAgent('deleted');
    expect((await items()).get('agent:default/revoked-for-good')).toBe(revoked.agent_key.api_key);

    expect((await t.request('DELETE', '/v1/agents/revoked-for-good', { token: admin })).status).toBe(200);
    expect((await t.request('DELETE', '/admin/agents/deleted', { token: admin })).status).toBe(200);

    const left = await items();
    for (const account of [
      'agent:default/revoked-for-good',
      `agent-key:${revoked.agent_key.id}`,
      'agent:default/deleted',
      `agent-key:${deleted.agent_key.id}`,
      `agent-identity:${deleted.id}`,
    ])
      expect(left.has(account), account).toBe(false);
  });
});
