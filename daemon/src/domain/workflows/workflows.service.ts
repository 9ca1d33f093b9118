import { randomUUID } from 'node:crypto';
import type { CreateWorkflowRequest, Workflow, WorkflowListQuery } from '@gatehouse/shared';
import { conflict, notFound } from '../../errors.js';
import { escapeLike, type Database, type ReadManager } from '../../storage/database.js';
import type { ProjectRow } from '../../storage/entities.js';
import {
  WorkflowEdgeEntity,
  WorkflowEntity,
  WorkflowNodeEntity,
  type WorkflowRow,
} from '../../storage/workflow-entities.js';
import type { Actor } from '../actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import { storedName } from '../names.js';
import type { AgentUsersService } from './agent-users.service.js';
import { recordWorkflowEvent } from './workflow-audit.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `Approval Pipeline!` → `approval-pipeline`: the slug used in agent-user names and Pipelit paths. */
export const slugify = (name: string): string =>
  name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');

/**
 * Workflows (SPEC §5): named graphs in a project, found by id, name or slug. Each change is one
 * write with its audit event; the graph inside a workflow is WorkflowGraphService's.
 */
export class WorkflowsService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly agentUsers: AgentUsersService,
  ) {}

  async list(projectId: string, query: WorkflowListQuery): Promise<{ items: Workflow[]; total: number }> {
    const q = this.db.manager.createQueryBuilder(WorkflowEntity, 'w').where('w.project_id = :projectId', { projectId });
    if (query.q) q.andWhere(this.db.dialect.likeIgnoringCase('w.name', 'q'), { q: `%${escapeLike(query.q)}%` });
    const [rows, total] = await q
      .orderBy('w.name', 'ASC')
      .skip(query.offset ?? 0)
      .take(query.limit ?? 20)
      .getManyAndCount();
    return { items: await this.present(this.db.manager, rows), total };
  }

  async get(projectId: string, ref: string): Promise<Workflow> {
    const [workflow] = await this.present(this.db.manager, [await this.find(projectId, ref)]);
    return workflow!;
  }

  /** By id, name or slug, within the project. */
  async find(projectId: string, ref: string, tx: ReadManager = this.db.manager): Promise<WorkflowRow> {
    const workflow =
      (UUID.test(ref) ? await tx.findOneBy(WorkflowEntity, { project_id: projectId, id: ref }) : null) ??
      (await tx.findOneBy(WorkflowEntity, { project_id: projectId, name: ref.normalize('NFC').trim() })) ??
      (await tx.findOneBy(WorkflowEntity, { project_id: projectId, slug: ref }));
    if (!workflow) throw notFound(`Workflow "${ref}"`);
    return workflow;
  }

  async create(project: ProjectRow, input: CreateWorkflowRequest, actor: Actor): Promise<Workflow> {
    const name = storedName(input.name);
    const slug = slugify(name);
    return this.db.write(async (tx) => {
      const clash = await tx.findOne(WorkflowEntity, {
        where: [
          { project_id: project.id, name },
          { project_id: project.id, slug },
        ],
      });
      if (clash)
        throw conflict(
          clash.name === name
            ? `A workflow named "${name}" already exists in project "${project.slug}".`
            : `The name "${name}" gives the slug "${slug}", which workflow "${clash.name}" already uses.`,
        );
      const now = new Date().toISOString();
      const row: WorkflowRow = {
        id: randomUUID(),
        project_id: project.id,
        name,
        slug,
        definition: input.definition ?? '',
        next_node: 1,
        next_edge: 1,
        created_at: now,
        updated_at: now,
      };
      await tx.insert(WorkflowEntity, row);
      await recordWorkflowEvent(this.audit, tx, 'workflow.created', row, actor);
      return { ...row, node_count: 0, edge_count: 0 };
    });
  }

  /** Deletes the workflow with its graph; its agent users go too (their keys are revoked). */
  async delete(project: ProjectRow, ref: string, actor: Actor): Promise<{ deleted: string }> {
    const { workflow, removed } = await this.db.write(async (tx) => {
      const workflow = await this.find(project.id, ref, tx);
      const removed = await this.agentUsers.removeInWorkflow(tx, workflow, null, actor);
      await tx.delete(WorkflowEntity, { id: workflow.id });
      await recordWorkflowEvent(this.audit, tx, 'workflow.deleted', workflow, actor);
      return { workflow, removed };
    });
    await this.agentUsers.forgetSecrets(removed);
    return { deleted: workflow.name };
  }

  private async present(tx: ReadManager, rows: WorkflowRow[]): Promise<Workflow[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((row) => row.id);
    const count = async (entity: typeof WorkflowNodeEntity | typeof WorkflowEdgeEntity) =>
      new Map<string, number>(
        (
          await tx
            .createQueryBuilder(entity, 'x')
            .select('x.workflow_id', 'workflow_id')
            .addSelect('count(*)', 'n')
            .where('x.workflow_id IN (:...ids)', { ids })
            .groupBy('x.workflow_id')
            .getRawMany<{ workflow_id: string; n: number }>()
        ).map((r) => [r.workflow_id, Number(r.n)]),
      );
    const [nodes, edges] = [await count(WorkflowNodeEntity), await count(WorkflowEdgeEntity)];
    return rows.map(({ next_node: _n, next_edge: _e, ...row }) => ({
      ...row,
      node_count: nodes.get(row.id) ?? 0,
      edge_count: edges.get(row.id) ?? 0,
    }));
  }
}
