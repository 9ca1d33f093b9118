import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentEntity, AgentKeyEntity } from '../../storage/agent-entities.js';
import { dropTrigger, refuseUpdates, sql } from '../../testing/sql.js';
import { startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';
import { UsageRecorder } from './usage-recorder.js';

describe('the usage recorder', () => {
  let t: TestDaemon;
  let admin: string;
  let recorder: UsageRecorder;
  let agents: Array<{ id: string; keyId: string }>;

  beforeEach(async () => {
    ({ t, admin } = await startWithAdmin());
    agents = [];
    for (const name of ['first', 'second', 'third']) {
      const created = await t.request('POST', '/admin/agents', { token: admin, body: { name, issue_key: true } });
      expect(created.status).toBe(201);
      agents.push({ id: created.body.id, keyId: created.body.agent_key.id });
    }
    // Two rows a statement, so that three rows take two.
    recorder = new UsageRecorder(t.daemon.services.db, 2);
  });
  afterEach(async () => {
    await recorder.close();
    await t.dispose();
  });

  const keyTimes = async () =>
    (await t.daemon.services.db.manager.findBy(AgentKeyEntity, {})).map((key) => key.last_used_at);
  const agentTimes = async () =>
    (await t.daemon.services.db.manager.findBy(AgentEntity, {})).map((agent) => agent.last_auth_at);

  it("writes each row's own time, a statement per few rows, and never moves a time back", async () => {
    const later = '2999-01-01T00:00:00.000Z';
    await sql(t, `UPDATE agent_keys SET last_used_at = '${later}' WHERE id = '${agents[2]!.keyId}'`);
    // When each use was recorded: between these two clock readings.
    const times: Array<[number, number]> = [];
    for (const { id, keyId } of agents) {
      const before = Date.now();
      recorder.keyUsed(keyId, id);
      times.push([before, Date.now()]);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }

    const queries = vi.spyOn(t.daemon.services.db.source.logger, 'logQuery');
    try {
      await recorder.flush();
      const updates = queries.mock.calls.map(([query]) => query).filter((query) => /^UPDATE/i.test(query));
      expect(updates.filter((query) => /"agent_keys"/.test(query))).toHaveLength(2);
      expect(updates.filter((query) => /"agents"/.test(query))).toHaveLength(2);
    } finally {
      queries.mockRestore();
    }

    const keys = new Map(
      (await t.daemon.services.db.manager.findBy(AgentKeyEntity, {})).map((key) => [key.id, key.last_used_at]),
    );
    // Each its own use, to the millisecond it was recorded.
    for (const [i, { keyId }] of agents.slice(0, 2).entries()) {
      const written = Date.parse(keys.get(keyId)!);
      expect(written).toBeGreaterThanOrEqual(times[i]![0]);
      expect(written).toBeLessThanOrEqual(times[i]![1]);
    }
    expect(keys.get(agents[2]!.keyId)).toBe(later);
    expect((await agentTimes()).filter((time) => time !== null)).toHaveLength(3);
  });

  it('keeps the uses of a flush the database refused for the next one, unless a later use came since', async () => {
    const [first, second] = agents as [(typeof agents)[0], (typeof agents)[0]];
    const firstUse = Date.now();
    recorder.keyUsed(first.keyId, first.id);
    recorder.keyUsed(second.keyId, second.id);
    const usedAt = Date.now();
    await sql(t, refuseUpdates(t, 'agent_keys'));

    await expect(recorder.flush()).rejects.toThrow();
    // Nothing half-written: the agents' times were in the same transaction.
    expect(await keyTimes()).toEqual([null, null, null]);
    expect(await agentTimes()).toEqual([null, null, null]);

    await new Promise((resolve) => setTimeout(resolve, 20));
    const secondUse = Date.now();
    recorder.keyUsed(second.keyId, second.id);
    await sql(t, dropTrigger(t, 'refuse_update', 'agent_keys'));
    await recorder.flush();

    const keys = await t.daemon.services.db.manager.findBy(AgentKeyEntity, {});
    const written = (id: string) => Date.parse(keys.find((key) => key.id === id)!.last_used_at!);
    // The first key's use from the refused flush; the second key's later use, not its first.
    expect(written(first.keyId)).toBeGreaterThanOrEqual(firstUse);
    expect(written(first.keyId)).toBeLessThanOrEqual(usedAt);
    expect(written(second.keyId)).toBeGreaterThanOrEqual(secondUse);
    expect((await agentTimes()).filter((time) => time !== null)).toHaveLength(2);
  });
});
