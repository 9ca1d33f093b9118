import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { pino, type Bindings, type ChildLoggerOptions, type Logger, type SerializedError } from 'pino';
import roll, { type RollingFile } from 'pino-roll';
import { routes, type RouteDescriptor } from '@gatehouse/shared';

export const LOG_DIR = 'logs';
/** Rotated files are `gatehoused.<n>.log`, the newest numbered highest; `current.log` links to it. */
const LOG_BASE = 'gatehoused';

export interface LogOptions {
  level: string;
  /** A file is rotated once it reaches this size: bytes, or with `k`, `m`, `g` (pino-roll's sizes). */
  maxSize: string;
  /** How many files are kept, the one being written included; older ones are deleted. */
  maxFiles: number;
}

/**
 * Never log key material: credentials in headers are redacted, and so is any field with a
 * secret's name in whatever object is logged. Request bodies are never logged at all.
 */
const REDACT = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-otas-user-token"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...[
    'password',
    'new_password',
    'current_password',
    'secret',
    'api_key',
    'token',
    'access_token',
    'refresh_token',
    'totp_code',
    'code',
    'passphrase',
  ].flatMap((field) => [field, `*.${field}`]),
];

/** The query parameters the API reads; any other's value is redacted, whatever it is called. */
const KNOWN_QUERY_PARAMETERS = new Set(
  Object.values<RouteDescriptor>(routes).flatMap((route) => Object.keys(route.querystring?.properties ?? {})),
);

/** Gatehouse's opaque credentials (`agent_…`, `ghp_…`, `ghr_…`, see shared/credentials.ts) and JWTs. */
const CREDENTIAL = /[a-z]+_[0-9A-Za-z]{8}_[0-9A-Za-z]{38}|eyJ[\w-]*\.[\w-]+\.[\w-]*/;
const CREDENTIALS = new RegExp(CREDENTIAL.source, 'g');
const REDACTED = '[redacted]';

/**
 * A request target as the log may hold it: a credential is never written, wherever it sits. Query
 * values are kept only for the parameters the API reads, and even then not when they hold
 * something shaped like a credential; the path keeps everything but credential-shaped text.
 */
export function redactUrl(url: string): string {
  const mark = url.indexOf('?');
  const path = (mark === -1 ? url : url.slice(0, mark)).replace(CREDENTIALS, REDACTED);
  if (mark === -1) return path;
  const query = url
    .slice(mark + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals === -1 ? pair : pair.slice(0, equals);
      if (CREDENTIAL.test(decoded(name))) return REDACTED;
      const keep = KNOWN_QUERY_PARAMETERS.has(decoded(name)) && !CREDENTIAL.test(decoded(pair));
      return keep ? pair : `${name}=${REDACTED}`;
    })
    .join('&');
  return `${path}?${query}`;
}

/** Query text as the daemon reads it (`+` is a space), so an encoded credential is seen too. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** What the one line per request says. */
export interface RequestLine {
  reqId: string;
  method: string;
  url: string;
  status: number;
  ms: number;
}

export interface DaemonLogger {
  logger: Logger;
  /**
   * Logs the one line per request, to the log file only: a terminal shows the daemon's own
   * messages, not a line per agent call. Anything else goes through `logger`.
   */
  request(line: RequestLine): void;
  /** The file being written now (it changes as the log rotates). */
  readonly file: string;
  flush(): void;
}

/**
 * JSON lines to `<home>/logs/`, and nowhere else: the daemon's stdout is for people (main.ts
 * writes one line there), and a supervisor reads readiness from `daemon.json`. The log rotates by
 * size, keeping `maxFiles` files, so it never grows without bound.
 */
export async function createLogger(home: string, options: LogOptions): Promise<DaemonLogger> {
  const dir = join(home, LOG_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const destination = await roll({
    file: join(dir, LOG_BASE),
    extension: '.log',
    size: options.maxSize,
    limit: { count: options.maxFiles - 1 }, // pino-roll counts the files kept besides the current one
    symlink: true,
    mode: 0o600,
    sync: false,
  });
  // Ready before the first line, so that a start-up failure can still flush what was logged.
  if (destination.fd < 0) await once(destination, 'ready');
  const { level } = options;
  const base = { pid: process.pid };
  const logger = pino(
    { level, redact: { paths: REDACT, censor: '[redacted]' }, serializers: { err: serializeError }, base },
    destination,
  );
  const requestLines = pino.levels.values[level]! <= pino.levels.values.info! ? new RequestLines(destination) : null;
  return {
    logger,
    request: requestLines ? (line) => requestLines.add(line) : () => {},
    get file() {
      return destination.file;
    },
    flush: () => {
      requestLines?.writePending();
      destination.flushSync();
    },
  };
}

/**
 * pino's error serializer, less a failed query's bound values (TypeORM's `QueryFailedError` carries
 * them as `parameters`; they may be hashes, sealed secrets or people's details): its SQL and the
 * driver's message say what failed.
 */
function serializeError(error: Error): SerializedError {
  const serialized = pino.stdSerializers.err(error);
  delete serialized.parameters;
  return serialized;
}

/** Request lines are handed to the file stream once this much is pending, */
const REQUEST_LINES_BYTES = 64 * 1024;
/** or this long after the first of them: what a `tail -f` of the log waits at most. */
const REQUEST_LINES_MS = 100;
/** How many urls' escaped forms a log keeps (agents ask the same few). */
const URL_FIELDS = 1000;

/**
 * Request lines are written as pino writes a line at level info, but without going through it:
 * their fields are fixed and hold no headers or bodies, so they need neither redaction nor
 * pino's general serialisation, which costs ten times as much (2.3 µs against 0.2 µs a line).
 * They reach the file stream in batches (64 KiB, or 100 ms after the first line): each write of
 * the stream is a file write on libuv's thread pool, two thread hand-offs and a system call, which
 * cost an agent request ~2 µs of CPU when batched per event-loop turn. `flush` writes what is left
 * (shutdown, a crash being logged).
 */
class RequestLines {
  private readonly info = pino.levels.values.info!;
  private pending: string[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly urlFields = new Map<string, string>();

  constructor(private readonly destination: RollingFile) {}

  add({ reqId, method, url, status, ms }: RequestLine): void {
    const line =
      `{"level":${this.info},"time":${Date.now()},"pid":${process.pid},"reqId":${JSON.stringify(reqId)},` +
      // The method is one of llhttp's known tokens: nothing to escape.
      `"method":"${method}","url":${this.urlField(url)},"status":${status},"ms":${ms},"msg":"request"}\n`;
    this.pending.push(line);
    this.bytes += line.length;
    if (this.bytes >= REQUEST_LINES_BYTES) this.writePending();
    else this.timer ??= setTimeout(() => this.writePending(), REQUEST_LINES_MS).unref();
  }

  /**
   * The url as the line holds it, redacted and escaped. Agents ask a few urls over and over: those
   * with nothing to redact are kept as written (the cache holds no credential), up to a bound.
   */
  private urlField(url: string): string {
    let field = this.urlFields.get(url);
    if (field === undefined) {
      const redacted = redactUrl(url);
      field = JSON.stringify(redacted);
      if (redacted === url && this.urlFields.size < URL_FIELDS) this.urlFields.set(url, field);
    }
    return field;
  }

  writePending(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    this.destination.write(this.pending.join(''));
    this.pending = [];
    this.bytes = 0;
  }
}

/**
 * Fastify's `childLoggerFactory`: a request's own logger (bound to its reqId) is made when the
 * request first logs through it, which few do (unexpected errors), instead of on every request.
 */
export const lazyChildLogger = (logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) =>
  new LazyChildLogger(logger, bindings, options);

type Log = (...args: unknown[]) => void;

// A class, not an object of closures: such objects outlived young-generation collections and
// filled the old space (~380 bytes promoted per request).
class LazyChildLogger implements FastifyBaseLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  private get logger(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }
  get level(): string {
    return this.logger.level;
  }
  set level(level: string) {
    this.logger.level = level;
  }
  fatal(...args: unknown[]): void {
    (this.logger.fatal as Log)(...args);
  }
  error(...args: unknown[]): void {
    (this.logger.error as Log)(...args);
  }
  warn(...args: unknown[]): void {
    (this.logger.warn as Log)(...args);
  }
  info(...args: unknown[]): void {
    (this.logger.info as Log)(...args);
  }
  debug(...args: unknown[]): void {
    (this.logger.debug as Log)(...args);
  }
  trace(...args: unknown[]): void {
    (this.logger.trace as Log)(...args);
  }
  silent(...args: unknown[]): void {
    (this.logger.silent as Log)(...args);
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
}

/**
 * Imports a library whose import writes warnings with `console.warn` (oidc-provider warns on any
 * runtime it does not list as supported: Node 20, and Electron, whose Node names no LTS); the
 * daemon's stderr is for people, so those lines go to the log. Imported once, at start-up or on
 * first use, so the moment `console.warn` is borrowed is short.
 */
export async function importQuietly<Module>(load: () => Promise<Module>, log: FastifyBaseLogger): Promise<Module> {
  const warn = console.warn;
  console.warn = (...parts: unknown[]) => log.warn(parts.join(' '));
  try {
    return await load();
  } finally {
    console.warn = warn;
  }
}
