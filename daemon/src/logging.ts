import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';

export const LOG_DIR = 'logs';
export const LOG_FILE = 'gatehoused.log';

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

export interface DaemonLogger {
  logger: Logger;
  /**
   * The one line per request (method, url, status, time), to the log file only: a terminal
   * shows the daemon's own messages, not a line per agent call. Without redaction: its fields
   * are fixed and hold no headers or bodies, and redacting every line would cost a third of the
   * daemon's request rate. Anything else goes through `logger`.
   */
  requests: Logger;
  file: string;
  flush(): void;
}

/** JSON lines to `<home>/logs/gatehoused.log`, and (but for request lines) to stdout when asked. */
export function createLogger(home: string, level: string, toStdout: boolean): DaemonLogger {
  const dir = join(home, LOG_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, LOG_FILE);
  // Opened here, synchronously, so the stream is ready at once and a start-up failure can still flush it.
  const destination = pino.destination({ fd: openSync(file, 'a', 0o600), sync: false });
  const streams = [{ stream: destination, level: level as pino.Level }];
  if (toStdout) streams.push({ stream: pino.destination(1), level: level as pino.Level });
  const base = { pid: process.pid };
  const logger = pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base }, pino.multistream(streams));
  const requests = pino({ level, base }, destination);
  return { logger, requests, file, flush: () => destination.flushSync() };
}
