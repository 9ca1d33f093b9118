import { Type, type Static } from 'typebox';
import { NameString, StrictObject, Timestamp, Uuid } from './common.js';

/** `1` = project admin, `2` = member (read-only). */
export const Privilege = Type.Union([Type.Literal(1), Type.Literal(2)]);
export type Privilege = Static<typeof Privilege>;

export const Slug = NameString({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9]+(?:-[a-z0-9]+)*$' });

export const Project = Type.Object({
  id: Uuid,
  name: Type.String(),
  slug: Type.String(),
  created_at: Timestamp,
});
export type Project = Static<typeof Project>;

export const ProjectList = Type.Array(Project);

export const CreateProjectRequest = StrictObject({
  name: NameString({ minLength: 1, maxLength: 128 }),
  slug: Type.Optional(Slug),
});
export type CreateProjectRequest = Static<typeof CreateProjectRequest>;

export const ProjectParams = Type.Object({ id: Uuid });

export const Membership = Type.Object({
  user_id: Uuid,
  project_id: Uuid,
  username: Type.String(),
  privilege: Privilege,
  created_at: Timestamp,
});
export type Membership = Static<typeof Membership>;

export const MembershipList = Type.Array(Membership);

export const MemberParams = Type.Object({ id: Uuid, user_id: Uuid });
export type MemberParams = Static<typeof MemberParams>;

export const SetMembershipRequest = StrictObject({ privilege: Privilege });
export type SetMembershipRequest = Static<typeof SetMembershipRequest>;
