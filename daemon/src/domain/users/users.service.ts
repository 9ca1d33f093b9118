import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { CreateUserRequest, Project, UpdateUserRequest, User, UserListQuery } from '@gatehouse/shared';
import { conflict, forbidden, notFound, ProblemError } from '../../errors.js';
import { accounts, type SecretStore } from '../../secrets/secret-store.js';
import { escapeLike, type Database } from '../../storage/database.js';
import { MembershipEntity, ProjectEntity, SessionEntity, UserEntity, type UserRow } from '../../storage/entities.js';
import type { Actor } from '../actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import { hashPassword } from '../auth/passwords.js';
import { DEFAULT_PROJECT_SLUG, toProject } from '../projects/projects.service.js';
import { assertCeilingWithin } from './tool-ceiling.js';

export const toUser = (row: UserRow): User => ({
  id: row.id,
  username: row.username,
  email: row.email,
  kind: row.kind,
  role: row.role,
  tool_ceiling: row.tool_ceiling,
  mfa_enabled: row.mfa_enabled,
  first_name: row.first_name,
  disabled: row.disabled,
  created_at: row.created_at,
});

/** The names OTAS keeps for a user. */
export type OtasProfile = Pick<UserRow, 'first_name' | 'middle_name' | 'last_name'>;

export const isUserAdmin = (user: UserRow): boolean => user.role === 'admin' || user.role === 'super_admin';

/** A human user row with every counter at rest. */
export function newHumanRow(
  fields: Pick<UserRow, 'username' | 'role' | 'tool_ceiling'> & { email?: string | null; password_hash: string },
): UserRow {
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    email: null,
    kind: 'human',
    mfa_enabled: false,
    totp_last_step: null,
    totp_failures: 0,
    totp_locked_until: null,
    failed_logins: 0,
    locked_until: null,
    first_name: null,
    middle_name: null,
    last_name: null,
    disabled: false,
    created_at: now,
    updated_at: now,
    ...fields,
  };
}

export class UsersService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly secrets: SecretStore,
  ) {}

  /** Setup is needed until a super_admin exists. */
  async needsSetup(): Promise<boolean> {
    return !(await this.db.manager.exists(UserEntity, { where: { role: 'super_admin', kind: 'human' } }));
  }

  /** Creates the first super_admin and the `default` project, exactly once (checked inside the write). */
  async setup(
    input: { username: string; password: string; email?: string },
    actor: Actor,
  ): Promise<{ user: User; project: Project }> {
    const passwordHash = await hashPassword(input.password);
    return this.db.write(async (tx) => {
      if (await tx.exists(UserEntity, { where: { role: 'super_admin', kind: 'human' } })) {
        throw new ProblemError('setup_already_done', 'Gatehouse is already set up; sign in instead.');
      }
      const user = newHumanRow({
        username: input.username.trim(),
        email: input.email ?? null,
        role: 'super_admin',
        tool_ceiling: '*',
        password_hash: passwordHash,
      });
      await tx.insert(UserEntity, user);
      let project = await tx.findOneBy(ProjectEntity, { slug: DEFAULT_PROJECT_SLUG });
      if (!project) {
        project = {
          id: randomUUID(),
          name: 'Default',
          slug: DEFAULT_PROJECT_SLUG,
          description: null,
          domain: null,
          created_by: user.id,
          created_at: user.created_at,
        };
        await tx.insert(ProjectEntity, project);
        await this.audit.append(tx, {
          event_type: 'project.created',
          actor: { ...actor, label: `user:${user.username}` },
          project_id: project.id,
          target: `project:${project.slug}`,
        });
      }
      await tx.insert(MembershipEntity, {
        user_id: user.id,
        project_id: project.id,
        privilege: 1,
        created_at: user.created_at,
      });
      await this.audit.append(tx, {
        event_type: 'user.created',
        actor: { ...actor, label: `user:${user.username}` },
        target: `user:${user.username}`,
        metadata: { role: user.role, setup: true },
      });
      return { user: toUser(user), project: toProject(project) };
    });
  }

  async list(query: UserListQuery): Promise<{ items: User[]; total: number }> {
    const q = this.db.manager.createQueryBuilder(UserEntity, 'u');
    if (query.q)
      q.where(
        `(${this.db.dialect.likeIgnoringCase('u.username', 'q')} OR ${this.db.dialect.likeIgnoringCase('u.email', 'q')})`,
        {
          q: `%${escapeLike(query.q)}%`,
        },
      );
    const [rows, total] = await q
      .orderBy('u.username', 'ASC')
      .skip(query.offset ?? 0)
      .take(query.limit ?? 20)
      .getManyAndCount();
    return { items: rows.map(toUser), total };
  }

  async get(id: string): Promise<UserRow> {
    const user = await this.db.manager.findOneBy(UserEntity, { id });
    if (!user) throw notFound('User');
    return user;
  }

  async create(input: CreateUserRequest, actor: Actor & { user: UserRow }): Promise<User> {
    const role = input.role ?? 'viewer';
    if (role === 'super_admin' && actor.user.role !== 'super_admin')
      throw forbidden('Only a super_admin can create a super_admin.');
    if (input.tool_ceiling !== undefined) assertCeilingWithin(actor.user, input.tool_ceiling);
    const passwordHash = await hashPassword(input.password);
    return this.db.write(async (tx) => {
      await this.assertUnique(tx, input.username.trim(), input.email ?? null);
      const user = newHumanRow({
        username: input.username.trim(),
        email: input.email ?? null,
        role,
        tool_ceiling: input.tool_ceiling ?? [],
        password_hash: passwordHash,
      });
      await tx.insert(UserEntity, user);
      await this.audit.append(tx, {
        event_type: 'user.created',
        actor,
        target: `user:${user.username}`,
        metadata: { role },
      });
      return toUser(user);
    });
  }

  /**
   * A self-service sign-up (OTAS's `user/create`, only with --allow-signup): a viewer with its
   * email as username and no project until an admin adds it to one.
   */
  async signUp(input: OtasProfile & { email: string; password: string }, actor: Actor): Promise<UserRow> {
    const passwordHash = await hashPassword(input.password);
    return this.db.write(async (tx) => {
      await this.assertUnique(tx, input.email, input.email);
      const user: UserRow = {
        ...newHumanRow({
          username: input.email,
          email: input.email,
          role: 'viewer',
          tool_ceiling: [],
          password_hash: passwordHash,
        }),
        first_name: input.first_name,
        middle_name: input.middle_name,
        last_name: input.last_name,
      };
      await tx.insert(UserEntity, user);
      await this.audit.append(tx, {
        event_type: 'user.signed_up',
        actor: { ...actor, label: `user:${user.username}` },
        target: `user:${user.username}`,
        metadata: { role: user.role },
      });
      return user;
    });
  }

  /** A user's own names (OTAS's profile edit). */
  async updateProfile(user: UserRow, profile: OtasProfile, actor: Actor): Promise<UserRow> {
    return this.db.write(async (tx) => {
      const next: UserRow = { ...user, ...profile, updated_at: new Date().toISOString() };
      await tx.update(UserEntity, { id: user.id }, { ...profile, updated_at: next.updated_at });
      await this.audit.append(tx, {
        event_type: 'user.updated',
        actor,
        target: `user:${user.username}`,
        metadata: { changed: Object.keys(profile) },
      });
      return next;
    });
  }

  async update(id: string, input: UpdateUserRequest, actor: Actor & { user: UserRow }): Promise<User> {
    const passwordHash = input.password === undefined ? undefined : await hashPassword(input.password);
    return this.db.write(async (tx) => {
      const user = await tx.findOneBy(UserEntity, { id });
      if (!user) throw notFound('User');
      this.assertMayManage(actor.user, user);
      if (input.role === 'super_admin' && actor.user.role !== 'super_admin')
        throw forbidden('Only a super_admin can grant super_admin.');
      if (input.tool_ceiling !== undefined) assertCeilingWithin(actor.user, input.tool_ceiling);
      const losesSuperAdmin =
        user.role === 'super_admin' &&
        ((input.role !== undefined && input.role !== 'super_admin') || input.disabled === true);
      if (losesSuperAdmin) await this.assertNotLastSuperAdmin(tx, user);
      if (
        input.email !== undefined &&
        input.email !== null &&
        input.email.toLowerCase() !== user.email?.toLowerCase()
      ) {
        await this.assertUnique(tx, null, input.email);
      }

      const changes: Partial<UserRow> = {};
      if (input.email !== undefined) changes.email = input.email;
      if (input.role !== undefined) changes.role = input.role;
      if (input.disabled !== undefined) changes.disabled = input.disabled;
      if (input.tool_ceiling !== undefined) changes.tool_ceiling = input.tool_ceiling;
      if (passwordHash !== undefined)
        Object.assign(changes, { password_hash: passwordHash, failed_logins: 0, locked_until: null });
      const changed = Object.keys(input);
      const next: UserRow = { ...user, ...changes, updated_at: new Date().toISOString() };
      await tx.save(UserEntity, next);
      // A disabled account or a reset password ends every session at once.
      if (input.disabled === true || passwordHash !== undefined) {
        await tx.update(
          SessionEntity,
          { user_id: user.id, revoked_at: null as unknown as undefined },
          { revoked_at: next.updated_at, revoked_reason: input.disabled ? 'user disabled' : 'password reset' },
        );
      }
      await this.audit.append(tx, {
        event_type: input.disabled === true ? 'user.disabled' : 'user.updated',
        actor,
        target: `user:${user.username}`,
        metadata: { changed, ...(input.role ? { role: input.role } : {}) },
      });
      return toUser(next);
    });
  }

  async delete(id: string, actor: Actor & { user: UserRow }): Promise<void> {
    const user = await this.db.write(async (tx) => {
      const user = await tx.findOneBy(UserEntity, { id });
      if (!user) throw notFound('User');
      this.assertMayManage(actor.user, user);
      if (user.role === 'super_admin') await this.assertNotLastSuperAdmin(tx, user);
      // An agent user belongs to its workflow node, which also revokes its key when it goes.
      if (user.kind === 'agent')
        throw conflict(`${user.username} is an agent user: delete its workflow node (or the workflow) instead.`);
      await tx.delete(UserEntity, { id });
      await this.audit.append(tx, { event_type: 'user.deleted', actor, target: `user:${user.username}` });
      return user;
    });
    // After the commit: an orphaned keychain entry is harmless, a user whose secret vanished before a failed delete is not.
    await this.secrets.delete(accounts.totp(user.id)).catch(() => false);
  }

  /** Admins manage users, but only a super_admin manages super_admins. */
  assertMayManage(manager: UserRow, target: UserRow): void {
    if (target.role === 'super_admin' && manager.role !== 'super_admin')
      throw forbidden('Only a super_admin can change a super_admin.');
  }

  private async assertNotLastSuperAdmin(tx: EntityManager, user: UserRow): Promise<void> {
    const others = await tx
      .createQueryBuilder(UserEntity, 'u')
      .where("u.role = 'super_admin' AND NOT u.disabled AND u.id != :id", { id: user.id })
      .getCount();
    if (others === 0)
      throw new ProblemError(
        'last_super_admin',
        `${user.username} is the last active super_admin; promote another user first.`,
      );
  }

  private async assertUnique(tx: EntityManager, username: string | null, email: string | null): Promise<void> {
    if (username && (await tx.exists(UserEntity, { where: { username } })))
      throw conflict(`The username "${username}" is taken.`);
    if (email) {
      const taken = await tx
        .createQueryBuilder(UserEntity, 'u')
        .where(this.db.dialect.equalsIgnoringCase('u.email', 'email'), { email })
        .getExists();
      if (taken) throw conflict('That email address is already in use.');
    }
  }
}
