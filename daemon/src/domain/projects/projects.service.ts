import { randomUUID } from 'node:crypto';
import { In } from 'typeorm';
import type { CreateProjectRequest, Membership, Privilege, Project } from '@gatehouse/shared';
import { conflict, forbidden, notFound } from '../../errors.js';
import type { Database } from '../../storage/database.js';
import { frozenRow, ReadCache } from '../../storage/read-cache.js';
import { MembershipEntity, ProjectEntity, UserEntity, type ProjectRow, type UserRow } from '../../storage/entities.js';
import type { Actor } from '../actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import { storedName } from '../names.js';

export const DEFAULT_PROJECT_SLUG = 'default';

export const toProject = (row: ProjectRow): Project => ({
  id: row.id,
  name: row.name,
  slug: row.slug,
  created_at: row.created_at,
});

/** The project a request acts in, and what the caller may do there (null: not a member). */
export interface ProjectScope {
  project: ProjectRow;
  privilege: Privilege | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function slugify(name: string): string {
  return (
    name
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 64) || 'project'
  );
}

export class ProjectsService {
  /** Resolved scopes by user and requested project, while the database is unchanged (every console request asks). */
  private readonly scopes: ReadCache<ProjectScope | null>;

  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
  ) {
    this.scopes = new ReadCache(db);
  }

  /**
   * Resolves `X-Project-Id` (an id or a slug; the default project when absent) for `user`.
   * A super_admin acts as admin everywhere; others act with their membership privilege.
   */
  async resolveScope(user: UserRow, requested: string | undefined): Promise<ProjectScope> {
    const key = JSON.stringify([user.id, requested ?? null]);
    const scope = await this.scopes.get(key, async () => {
      const where = !requested
        ? { slug: DEFAULT_PROJECT_SLUG }
        : UUID.test(requested)
          ? { id: requested }
          : { slug: requested };
      const project = await this.db.manager.findOneBy(ProjectEntity, where);
      return project && { project: frozenRow(project), privilege: await this.privilegeOf(user, project.id) };
    });
    if (!scope) throw notFound(requested ? `Project "${requested}"` : 'The default project');
    return scope;
  }

  /** A project by id (agents carry their project's id). */
  async byId(id: string): Promise<ProjectRow> {
    const project = await this.db.manager.findOneBy(ProjectEntity, { id });
    if (!project) throw notFound('Project');
    return project;
  }

  async privilegeOf(user: UserRow, projectId: string): Promise<Privilege | null> {
    if (user.role === 'super_admin') return 1;
    const membership = await this.db.manager.findOneBy(MembershipEntity, { user_id: user.id, project_id: projectId });
    return membership?.privilege ?? null;
  }

  async listFor(user: UserRow): Promise<Project[]> {
    const q = this.db.manager.createQueryBuilder(ProjectEntity, 'p').orderBy('p.name', 'ASC');
    if (user.role !== 'super_admin') {
      q.innerJoin(MembershipEntity.options.name, 'm', 'm.project_id = p.id AND m.user_id = :user', { user: user.id });
    }
    return (await q.getMany()).map(toProject);
  }

  /** The user's projects with its privilege in each, newest first (OTAS's project list). */
  async privilegesOf(user: UserRow): Promise<Array<{ project: ProjectRow; privilege: Privilege }>> {
    if (user.role === 'super_admin') {
      const projects = await this.db.manager.find(ProjectEntity, { order: { created_at: 'DESC' } });
      return projects.map((project) => ({ project, privilege: 1 as const }));
    }
    const memberships = await this.db.manager.findBy(MembershipEntity, { user_id: user.id });
    const privileges = new Map(memberships.map((m) => [m.project_id, m.privilege]));
    const projects = await this.db.manager.find(ProjectEntity, {
      where: { id: In([...privileges.keys()]) },
      order: { created_at: 'DESC' },
    });
    return projects.map((project) => ({ project, privilege: privileges.get(project.id)! }));
  }

  /** `description` and `domain` are OTAS's project fields; Gatehouse's own API leaves them empty. */
  async create(
    input: CreateProjectRequest & { description?: string | null; domain?: string | null },
    actor: Actor & { user: UserRow },
  ): Promise<Project> {
    const name = storedName(input.name);
    const slug = input.slug ?? slugify(name);
    return this.db.write(async (tx) => {
      if (await tx.exists(ProjectEntity, { where: { slug } }))
        throw conflict(`A project with slug "${slug}" already exists.`);
      const project: ProjectRow = {
        id: randomUUID(),
        name,
        slug,
        description: input.description?.trim() || null,
        domain: input.domain?.trim() || null,
        created_by: actor.user.id,
        created_at: new Date().toISOString(),
      };
      await tx.insert(ProjectEntity, project);
      await tx.insert(MembershipEntity, {
        user_id: actor.user.id,
        project_id: project.id,
        privilege: 1,
        created_at: project.created_at,
      });
      await this.audit.append(tx, {
        event_type: 'project.created',
        actor,
        project_id: project.id,
        target: `project:${slug}`,
      });
      return toProject(project);
    });
  }

  async members(projectId: string, viewer: UserRow): Promise<Membership[]> {
    await this.requirePrivilege(viewer, projectId, 2);
    const rows: Array<Membership & { privilege: number }> = await this.db.manager
      .createQueryBuilder(MembershipEntity, 'm')
      .innerJoin(UserEntity.options.name, 'u', 'u.id = m.user_id')
      .select([
        'm.user_id AS user_id',
        'm.project_id AS project_id',
        'u.username AS username',
        'm.privilege AS privilege',
        'm.created_at AS created_at',
      ])
      .where('m.project_id = :projectId', { projectId })
      .orderBy('u.username', 'ASC')
      .getRawMany();
    return rows.map((row) => ({ ...row, privilege: row.privilege === 1 ? 1 : 2 }));
  }

  async setMember(
    projectId: string,
    userId: string,
    privilege: Privilege,
    actor: Actor & { user: UserRow },
  ): Promise<Membership> {
    await this.requirePrivilege(actor.user, projectId, 1);
    return this.db.write(async (tx) => {
      const [project, user] = await Promise.all([
        tx.findOneBy(ProjectEntity, { id: projectId }),
        tx.findOneBy(UserEntity, { id: userId }),
      ]);
      if (!project) throw notFound('Project');
      if (!user) throw notFound('User');
      const existing = await tx.findOneBy(MembershipEntity, { user_id: userId, project_id: projectId });
      const membership = {
        user_id: userId,
        project_id: projectId,
        privilege,
        created_at: existing?.created_at ?? new Date().toISOString(),
      };
      await tx.save(MembershipEntity, membership);
      await this.audit.append(tx, {
        event_type: 'project.member_set',
        actor,
        project_id: projectId,
        target: `user:${user.username}`,
        metadata: { privilege, previous: existing?.privilege ?? null },
      });
      return { ...membership, username: user.username };
    });
  }

  async removeMember(projectId: string, userId: string, actor: Actor & { user: UserRow }): Promise<void> {
    await this.requirePrivilege(actor.user, projectId, 1);
    await this.db.write(async (tx) => {
      const user = await tx.findOneBy(UserEntity, { id: userId });
      const result = await tx.delete(MembershipEntity, { user_id: userId, project_id: projectId });
      if (!user || !result.affected) throw notFound('Membership');
      await this.audit.append(tx, {
        event_type: 'project.member_removed',
        actor,
        project_id: projectId,
        target: `user:${user.username}`,
      });
    });
  }

  /** `needed` 1 = admin, 2 = any member. */
  private async requirePrivilege(user: UserRow, projectId: string, needed: Privilege): Promise<void> {
    if (!(await this.db.manager.exists(ProjectEntity, { where: { id: projectId } }))) throw notFound('Project');
    const privilege = await this.privilegeOf(user, projectId);
    if (privilege === null || privilege > needed) {
      throw forbidden(
        needed === 1 ? 'You need admin privilege on this project.' : 'You are not a member of this project.',
      );
    }
  }
}
