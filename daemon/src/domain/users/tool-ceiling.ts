import { forbidden } from '../../errors.js';
import type { ToolCeiling } from '@gatehouse/shared';
import type { UserRow } from '../../storage/entities.js';

/*
 * A human's tool ceiling bounds every tool they hand out: granted to an agent, given to a new
 * agent, put in a role, or put in another user's ceiling. Nobody gives what they may not grant,
 * so no path around the grant route widens what an agent can do.
 */

/** A super_admin's ceiling is everything; otherwise the user's `tool_ceiling` (a list, or `*`). */
export const unbounded = (user: UserRow) => user.role === 'super_admin' || user.tool_ceiling === '*';

/** The tools of `tools` that `user` may not hand out. */
function beyondCeiling(user: UserRow, tools: readonly string[]): string[] {
  if (unbounded(user)) return [];
  const ceiling = new Set(user.tool_ceiling);
  return tools.filter((tool) => !ceiling.has(tool));
}

/** 403 when `tools` reach past `user`'s ceiling; `what` says what they were for. */
export function assertWithinCeiling(user: UserRow, tools: readonly string[], what: string): void {
  const beyond = beyondCeiling(user, tools);
  if (beyond.length > 0) throw forbidden(`${what}: ${beyond.join(', ')} (beyond your tool ceiling).`);
}

/** 403 when `user` would give someone a ceiling wider than their own. */
export function assertCeilingWithin(user: UserRow, ceiling: ToolCeiling): void {
  if (ceiling === '*' && !unbounded(user))
    throw forbidden('Only a super_admin, or an admin whose own ceiling is "*", can give the ceiling "*".');
  if (ceiling !== '*') assertWithinCeiling(user, ceiling, 'You may not give a ceiling with');
}
