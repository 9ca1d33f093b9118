import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryFailedError } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, lazyChildLogger, type DaemonLogger, type LogOptions } from './logging.js';

const homes: string[] = [];
const newHome = (): string => {
  const home = mkdtempSync(join(tmpdir(), 'gatehouse-logging-'));
  homes.push(home);
  return home;
};
const newLogger = (level = 'info', options: Partial<LogOptions> = {}) =>
  createLogger(newHome(), { level, maxSize: '10m', maxFiles: 5, ...options });
/** The log file's lines once `count` have landed (writes are asynchronous, and may land out of order). */
const linesOf = async (log: DaemonLogger, count: number) => {
  log.flush();
  const read = () => readFileSync(log.file, 'utf8').split('\n').filter(Boolean);
  await expect.poll(() => read().length).toBe(count);
  return read().map((line) => JSON.parse(line) as Record<string, unknown>);
};

afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

describe('request lines', () => {
  it('are the lines pino would write, with any url escaped', async () => {
    const log = await newLogger();
    const line = { reqId: 'r-1', method: 'GET', url: '/v1/agents?q="a\\b"\u0001é', status: 200, ms: 3 };
    log.request(line);
    log.logger.child({}, { redact: [] }).info(line, 'request');
    const [first, second] = await linesOf(log, 2);
    expect(first).toEqual({ ...second, time: first!.time });
    expect(Object.keys(first!)).toEqual(Object.keys(second!));
    expect(first!.url).toBe(line.url);
    expect(Math.abs((first!.time as number) - Date.now())).toBeLessThan(5000);
  });

  it('reach the file on their own, in the order they were logged', async () => {
    const log = await newLogger();
    for (let i = 0; i < 500; i++) log.request({ reqId: `r-${i}`, method: 'GET', url: '/healthz', status: 200, ms: 0 });
    const read = () => readFileSync(log.file, 'utf8').split('\n').filter(Boolean);
    await expect.poll(() => read().length).toBe(500);
    expect(read().map((line) => (JSON.parse(line) as { reqId: string }).reqId)).toEqual(
      Array.from({ length: 500 }, (_, i) => `r-${i}`),
    );
  });

  it('are not written below level info', async () => {
    const log = await newLogger('warn');
    log.request({ reqId: 'r-1', method: 'GET', url: '/healthz', status: 200, ms: 0 });
    log.logger.warn('a warning');
    expect((await linesOf(log, 1)).map((line) => line.msg)).toEqual(['a warning']);
  });
});

describe('lazyChildLogger', () => {
  it('makes the child on first use, with its bindings and the parent redaction', async () => {
    const log = await newLogger();
    let made = 0;
    const parent = log.logger;
    const counting = Object.assign(Object.create(parent) as typeof parent, {
      child: (...args: Parameters<typeof parent.child>) => (made++, parent.child(...args)),
    });
    const child = lazyChildLogger(counting, { reqId: 'r-7' }, {});
    expect(made).toBe(0);
    child.error({ token: 'plaintext-secret' }, 'unhandled error');
    child.warn('again');
    expect(made).toBe(1);
    expect(child.level).toBe('info');
    const lines = await linesOf(log, 2);
    expect(lines).toContainEqual(
      expect.objectContaining({ reqId: 'r-7', msg: 'unhandled error', token: '[redacted]' }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ reqId: 'r-7', msg: 'again' }));
    expect(readFileSync(log.file, 'utf8')).not.toContain('plaintext-secret');
  });
});

describe('errors in the log', () => {
  it("hold a failed query's SQL and the driver's message, never its bound values", async () => {
    const log = await newLogger();
    const failure = new QueryFailedError(
      'UPDATE users SET password_hash = ? WHERE id = ?',
      ['scrypt$value-81c2', 'u1'],
      new Error('SQLITE_BUSY: database is locked'),
    );
    log.logger.error({ err: failure }, 'unhandled error');
    const [line] = await linesOf(log, 1);
    expect(line!.err).toMatchObject({
      type: 'QueryFailedError',
      message: 'SQLITE_BUSY: database is locked',
      query: expect.stringContaining('UPDATE users'),
    });
    expect(readFileSync(log.file, 'utf8')).not.toContain('value-81c2');
  });
});

describe('request targets in the log', () => {
  const key = `agent_AbCd1234_${'x'.repeat(38)}`;
  const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl';

  it.each([
    ['a token named access_token', `/v1/events?access_token=${jwt}`, '/v1/events?access_token=[redacted]'],
    ['a key under any name', `/v1/whoami?whatever=${key}`, '/v1/whoami?whatever=[redacted]'],
    ['a percent-encoded key', `/v1/whoami?k=${encodeURIComponent(key).replace('_', '%5F')}`, '/v1/whoami?k=[redacted]'],
    ['a credential as a name', `/v1/whoami?${key}`, '/v1/whoami?[redacted]'],
    ['a credential in a known parameter', `/admin/users?q=${key}&limit=5`, '/admin/users?q=[redacted]&limit=5'],
    ['a credential in the path', `/admin/agents/${key}/keys`, '/admin/agents/[redacted]/keys'],
    ['an unknown parameter', '/healthz?token=hunter2', '/healthz?token=[redacted]'],
  ])('never hold %s', async (_, url, logged) => {
    const log = await newLogger();
    log.request({ reqId: 'r', method: 'GET', url, status: 200, ms: 0 });
    const [line] = await linesOf(log, 1);
    expect(line!.url).toBe(logged);
  });

  it('keep the paging and filters the API reads', async () => {
    const log = await newLogger();
    const url = '/v1/audit?event_type=auth.*&limit=20&offset=40';
    log.request({ reqId: 'r', method: 'GET', url, status: 200, ms: 0 });
    expect((await linesOf(log, 1))[0]!.url).toBe(url);
  });
});

describe('the log file', () => {
  it('rotates by size and keeps only the files it is told to', async () => {
    const log = await newLogger('info', { maxSize: '4k', maxFiles: 3 });
    const dir = join(log.file, '..');
    // ~200 bytes a line: 400 lines are ~80 KiB, some twenty files' worth at 4 KiB each.
    for (let i = 0; i < 400; i++) {
      log.request({ reqId: `r-${i}`, method: 'GET', url: `/healthz?n=${'x'.repeat(60)}`, status: 200, ms: 0 });
      log.flush();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const logFiles = () => readdirSync(dir).filter((name) => /^gatehoused\.\d+\.log$/.test(name));
    await expect.poll(() => logFiles().length).toBe(3);
    const numbers = logFiles().map((name) => Number(name.split('.')[1]));
    expect(Math.max(...numbers)).toBeGreaterThan(10);
    // current.log names the newest file, the one being written.
    expect(readlinkSync(join(dir, 'current.log'))).toBe(`gatehoused.${Math.max(...numbers)}.log`);
    expect(log.file).toBe(join(dir, `gatehoused.${Math.max(...numbers)}.log`));
    for (const name of logFiles()) {
      expect(readFileSync(join(dir, name)).length).toBeLessThan(8 * 1024);
      expect(statSync(join(dir, name)).mode & 0o777).toBe(0o600);
    }
  });
});
