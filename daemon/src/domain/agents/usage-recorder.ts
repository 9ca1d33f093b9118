import { IsNull, LessThan, Or } from 'typeorm';
import type { Database } from '../../storage/database.js';
import { AgentEntity, AgentKeyEntity } from '../../storage/agent-entities.js';

/** How long a use may wait before it is written (SPEC: `last_used_at` may lag up to a minute). */
export const USAGE_FLUSH_MS = 30_000;

/**
 * Remembers when keys were used and agents authenticated, and writes it in one transaction every
 * 30 seconds (and on shutdown), so verifying a credential never costs a database write. The write
 * is a recorded use (`Database.recordUse`): it leaves the read caches of everything but these
 * times as they are.
 */
export class UsageRecorder {
  // Epoch milliseconds: made into ISO text once per flush, not on every request.
  private keys = new Map<string, number>();
  private agents = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly db: Database) {
    this.timer = setInterval(() => void this.flush().catch(() => undefined), USAGE_FLUSH_MS);
    this.timer.unref();
  }

  keyUsed(keyId: string, agentId: string): void {
    const now = Date.now();
    this.keys.set(keyId, now);
    this.agents.set(agentId, now);
  }

  agentAuthenticated(agentId: string): void {
    this.agents.set(agentId, Date.now());
  }

  async flush(): Promise<void> {
    if (this.keys.size === 0 && this.agents.size === 0) return;
    const keys = this.keys;
    const agents = this.agents;
    this.keys = new Map();
    this.agents = new Map();
    // Never back in time: another replica may have written a later use of the same key already.
    const notAfter = (at: number) => Or(IsNull(), LessThan(new Date(at).toISOString()));
    await this.db.recordUse(async (tx) => {
      for (const [id, at] of keys)
        await tx.update(
          AgentKeyEntity,
          { id, last_used_at: notAfter(at) },
          { last_used_at: new Date(at).toISOString() },
        );
      for (const [id, at] of agents)
        await tx.update(AgentEntity, { id, last_auth_at: notAfter(at) }, { last_auth_at: new Date(at).toISOString() });
    });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
