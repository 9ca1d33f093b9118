import type { UserRow } from '../storage/entities.js';

/** Who does something and from where: what the audit log records for every change. */
export interface Actor {
  /** `user:<username>`, `agent:<name>`, `anonymous` or `system`. */
  label: string;
  user: UserRow | null;
  /** The client address. */
  source: string | null;
}

export const userActor = (user: UserRow, source: string | null): Actor & { user: UserRow } => ({
  label: `user:${user.username}`,
  user,
  source,
});
export const anonymousActor = (source: string | null): Actor => ({ label: 'anonymous', user: null, source });
/** The daemon itself, for what happens by time (an approval request expiring). */
export const systemActor: Actor = { label: 'system', user: null, source: null };
