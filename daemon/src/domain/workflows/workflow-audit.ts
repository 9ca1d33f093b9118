import type { EntityManager } from 'typeorm';
import type { WorkflowRow } from '../../storage/workflow-entities.js';
import type { Actor } from '../actor.js';
import type { AuditLog } from '../audit/audit-log.js';

/** The audit event of an admin's change to a workflow or its graph, in the same write as the change. */
export function recordWorkflowEvent(
  audit: AuditLog,
  tx: EntityManager,
  event_type: string,
  workflow: WorkflowRow,
  actor: Actor,
  metadata: Record<string, unknown> = {},
) {
  return audit.append(tx, {
    event_type,
    actor,
    project_id: workflow.project_id,
    target: `workflow:${workflow.slug}`,
    metadata: { workflow_id: workflow.id, ...metadata },
  });
}
