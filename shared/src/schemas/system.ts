import { Type, type Static } from 'typebox';
import { Nullable, Timestamp } from './common.js';
import { User } from './users.js';
import { Privilege, Project } from './projects.js';

export const Health = Type.Object({ ok: Type.Literal(true) });

/** Where secrets live: the OS keychain, the passphrase-encrypted file, or sealed in the database (team mode). */
export const SecretBackend = Type.Union([
  Type.Literal('keychain'),
  Type.Literal('file'),
  Type.Literal('database'),
  Type.Literal('memory'),
]);
export type SecretBackend = Static<typeof SecretBackend>;

/** Whether the keychain takes a write now: `locked` the user can unlock, `unavailable` is not reachable at all. */
export const KeychainState = Type.Union([Type.Literal('ok'), Type.Literal('locked'), Type.Literal('unavailable')]);

export const DaemonStatus = Type.Object({
  version: Type.String(),
  started_at: Timestamp,
  uptime_seconds: Type.Integer(),
  url: Type.String(),
  port: Type.Integer(),
  data_dir: Type.String(),
  db: Type.Object({ path: Type.String(), ok: Type.Boolean(), migrations: Type.Integer() }),
  keychain: Type.Object({
    backend: SecretBackend,
    description: Type.String({ description: 'e.g. "OS keychain (Secret Service), service gatehouse"' }),
    health: KeychainState,
    detail: Nullable(Type.String({ description: 'What the user can do, when the keychain is not ok' })),
  }),
});
export type DaemonStatus = Static<typeof DaemonStatus>;

/** The signed-in human and the project the request acts in. */
export const HumanWhoami = Type.Object({
  principal: Type.Literal('user'),
  via: Type.Union([Type.Literal('session'), Type.Literal('personal_token')]),
  user: User,
  project: Project,
  privilege: Nullable(Privilege),
});
export type HumanWhoami = Static<typeof HumanWhoami>;

export const DiscoveryFile = Type.Object({
  pid: Type.Integer(),
  port: Type.Integer(),
  url: Type.String(),
  version: Type.String(),
  startedAt: Timestamp,
});
export type DiscoveryFile = Static<typeof DiscoveryFile>;
