import { homeFrom } from './home.js';
import { StartupError } from './errors.js';
import { readKeyEncryptionKey, type KeyEncryptionKey } from './secrets/key-encryption-key.js';

export type SecretStoreKind = 'keychain' | 'file' | 'database';

export interface DaemonConfig {
  /** Where the database, `daemon.json`, logs (and the encrypted secrets file) live. */
  home: string;
  /** A PostgreSQL URL (team mode): the data lives there instead of the SQLite file in `home`. Never logged. */
  databaseUrl?: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Keychain service name; every secret is stored under it. */
  keychainService: string;
  secretStore: SecretStoreKind;
  /** Only with `secretStore: 'file'`. Never logged. */
  passphrase?: string;
  /** Only with `secretStore: 'database'`: wraps every data key. Never logged, never stored. */
  kek?: KeyEncryptionKey;
  /** The key-encryption key being rotated away from: data keys still under it are re-wrapped at start. */
  previousKek?: KeyEncryptionKey;
  allowRemote: boolean;
  /**
   * Browser origins (`scheme://host[:port]`) an admin listed with --allow-origin: their pages may
   * call the API (CORS). None by default: any other origin is refused.
   */
  allowOrigins: string[];
  /** OTAS's `user/create` signs anyone up (as a viewer in no project): off unless --allow-signup. */
  allowSignup: boolean;
  tls?: { cert: string; key: string };
  logLevel: string;
  /** The log rotates at this size (`10m`, `512k`, or a number of MiB) … */
  logMaxSize: string;
  /** … keeping this many files, the current one included. */
  logMaxFiles: number;
  /** How long an MCP call of an approval-required tool waits for a human before it fails. */
  mcpApprovalTimeoutSeconds?: number;
  /** How long an MCP gateway session may go without a request before it is ended. */
  mcpSessionIdleSeconds?: number;
  /** The broker's time limits on the upstream, when not its defaults (tests shorten them). */
  brokerTimeoutsMs?: { headers: number; body: number };
  /**
   * Hosts (`host[:port]`, from GATEHOUSE_OAUTH_METADATA_HOSTS) whose Client ID Metadata Documents
   * may be fetched at a loopback or private address; any other host must resolve to a public one.
   */
  oauthMetadataHosts?: string[];
}

export const DEFAULT_MCP_APPROVAL_TIMEOUT_SECONDS = 900;
export const DEFAULT_MCP_SESSION_IDLE_SECONDS = 30 * 60;

export interface ConfigInput {
  home?: string;
  database?: string;
  host?: string;
  port?: string | number;
  secretStore?: string;
  kekFile?: string;
  previousKekFile?: string;
  allowRemote?: boolean;
  allowOrigins?: string[];
  allowSignup?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  logLevel?: string;
  logMaxSize?: string;
  logMaxFiles?: string | number;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

/** An origin as a browser sends it (`https://app.example.com`), or a startup error saying what is wrong. */
export function parseOrigin(text: string): string {
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    // answered below
  }
  // Only scheme, host and port: a path, query, fragment or credentials would never match a browser's Origin.
  const bare = url !== null && url.origin !== 'null' && url.href === `${url.origin}/`;
  if (!bare || (url!.protocol !== 'http:' && url!.protocol !== 'https:')) {
    throw new StartupError(
      `Invalid --allow-origin "${text}": give one browser origin, scheme://host[:port] (no path, no wildcard).`,
    );
  }
  return url!.origin;
}

/** Flags win over environment variables, which win over defaults. */
export function resolveConfig(input: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  const portText = String(input.port ?? env.GATEHOUSE_PORT ?? '7420');
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new StartupError(`Invalid port "${portText}": use a number from 0 to 65535 (0 picks a free port).`);
  }

  const secretStore = input.secretStore ?? env.GATEHOUSE_SECRET_STORE ?? 'keychain';
  if (secretStore !== 'keychain' && secretStore !== 'file' && secretStore !== 'database') {
    throw new StartupError(`Invalid secret store "${secretStore}": use "keychain" (default), "file" or "database".`);
  }
  const passphrase = env.GATEHOUSE_PASSPHRASE;
  if (secretStore === 'file' && !passphrase) {
    throw new StartupError('--secret-store=file needs the passphrase in GATEHOUSE_PASSPHRASE.');
  }
  const keys = secretStore === 'database' ? keyEncryptionKeys(input, env) : {};

  const approvalTimeoutText = env.GATEHOUSE_MCP_APPROVAL_TIMEOUT ?? String(DEFAULT_MCP_APPROVAL_TIMEOUT_SECONDS);
  const mcpApprovalTimeoutSeconds = Number(approvalTimeoutText);
  if (!/^\d+$/.test(approvalTimeoutText) || mcpApprovalTimeoutSeconds < 1 || mcpApprovalTimeoutSeconds > 86_400) {
    throw new StartupError(
      `Invalid GATEHOUSE_MCP_APPROVAL_TIMEOUT "${approvalTimeoutText}": use seconds from 1 to 86400.`,
    );
  }

  const host = input.host ?? env.GATEHOUSE_HOST ?? '127.0.0.1';
  const allowRemote = input.allowRemote ?? false;
  const tls = input.tlsCert && input.tlsKey ? { cert: input.tlsCert, key: input.tlsKey } : undefined;
  if (!LOOPBACK_HOSTS.has(host)) {
    if (!allowRemote)
      throw new StartupError(`Refusing to listen on ${host}: a non-loopback host needs --allow-remote.`);
    if (!tls) throw new StartupError(`Refusing to listen on ${host} without TLS: pass --tls-cert and --tls-key.`);
  }

  const logMaxSize = String(input.logMaxSize ?? env.GATEHOUSE_LOG_MAX_SIZE ?? '10m');
  if (!/^\d+(?:\.\d+)?[kmg]?$/i.test(logMaxSize) || parseFloat(logMaxSize) <= 0) {
    throw new StartupError(`Invalid log size "${logMaxSize}": use a size such as 10m, 512k or 1g.`);
  }
  const logMaxFilesText = String(input.logMaxFiles ?? env.GATEHOUSE_LOG_MAX_FILES ?? '5');
  const logMaxFiles = Number(logMaxFilesText);
  if (!/^\d+$/.test(logMaxFilesText) || logMaxFiles < 1 || logMaxFiles > 1000) {
    throw new StartupError(`Invalid number of log files "${logMaxFilesText}": use a number from 1 to 1000.`);
  }

  const oauthMetadataHosts = (env.GATEHOUSE_OAUTH_METADATA_HOSTS ?? '')
    .split(',')
    .map((host) => host.trim())
    .filter(Boolean)
    .map(parseHost);
  const databaseUrl = input.database ?? (env.GATEHOUSE_DATABASE_URL || undefined);
  if (databaseUrl !== undefined && !/^postgres(?:ql)?:\/\/./.test(databaseUrl)) {
    throw new StartupError('Invalid --database: give a PostgreSQL URL, postgres://user@host:port/database.');
  }

  return {
    home: input.home ?? homeFrom(env),
    ...(databaseUrl ? { databaseUrl } : {}),
    host,
    port,
    keychainService: env.GATEHOUSE_KEYCHAIN_SERVICE || 'gatehouse',
    secretStore,
    ...(secretStore === 'file' ? { passphrase } : {}),
    ...keys,
    allowRemote,
    allowOrigins: [...new Set((input.allowOrigins ?? []).map(parseOrigin))],
    allowSignup: input.allowSignup ?? false,
    ...(tls ? { tls } : {}),
    logLevel: input.logLevel ?? env.GATEHOUSE_LOG_LEVEL ?? 'info',
    logMaxSize,
    logMaxFiles,
    mcpApprovalTimeoutSeconds,
    oauthMetadataHosts,
  };
}

/** `host[:port]` as a URL names it (lower case, default port dropped), or a startup error. */
function parseHost(text: string): string {
  const url = URL.parse(`https://${text}`);
  if (!url || url.href !== `https://${url.host}/` || url.username || url.password) {
    throw new StartupError(
      `Invalid host "${text}" in GATEHOUSE_OAUTH_METADATA_HOSTS: give host[:port] names separated by commas.`,
    );
  }
  return url.host;
}

/** The database store's key-encryption key (and the one being rotated from): a file wins over the environment. */
export function keyEncryptionKeys(
  input: ConfigInput,
  env: NodeJS.ProcessEnv,
): { kek: KeyEncryptionKey; previousKek?: KeyEncryptionKey } {
  const kek = keyFrom(input.kekFile ?? env.GATEHOUSE_KEK_FILE, env.GATEHOUSE_KEK, 'GATEHOUSE_KEK');
  if (!kek) {
    throw new StartupError(
      '--secret-store=database needs the key-encryption key: --kek-file <file>, GATEHOUSE_KEK_FILE or GATEHOUSE_KEK ' +
        '(32 bytes in base64: head -c 32 /dev/urandom | base64).',
    );
  }
  const previousKek = keyFrom(
    input.previousKekFile ?? env.GATEHOUSE_PREVIOUS_KEK_FILE,
    env.GATEHOUSE_PREVIOUS_KEK,
    'GATEHOUSE_PREVIOUS_KEK',
  );
  if (previousKek?.id === kek.id) {
    throw new StartupError('The previous key-encryption key is the same key as the new one: rotate to a new key.');
  }
  return { kek, ...(previousKek ? { previousKek } : {}) };
}

function keyFrom(file: string | undefined, base64: string | undefined, variable: string): KeyEncryptionKey | undefined {
  if (file) return readKeyEncryptionKey({ file });
  if (base64) return readKeyEncryptionKey({ base64, variable });
  return undefined;
}

/** The URL without its password, for messages and the status page. */
export function redactedDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href;
  } catch {
    return 'postgres://…';
  }
}
