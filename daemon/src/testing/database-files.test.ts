import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { filesUnder, readFiles } from './database-files.js';

// The scans for plaintexts read a running PostgreSQL's data directory, whose files come and go
// (CI once failed on `pg_internal.init`, removed between the listing and the read).
describe('reading the files a database is written to while it runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-files-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists every file, and not one gone by the time it is looked at', () => {
    mkdirSync(join(dir, 'base'), { recursive: true });
    writeFileSync(join(dir, 'base', 'table'), 'rows');
    // A link to nothing is listed by readdir and gone for stat, as a file removed in between.
    symlinkSync(join(dir, 'removed'), join(dir, 'base', 'pg_internal.init'));
    expect(filesUnder(dir)).toEqual([join(dir, 'base', 'table')]);
  });

  it('reads the files still there and leaves out one removed since it was listed', () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'kept'), 'kept bytes');
    writeFileSync(join(dir, 'removed'), 'gone');
    const listed = filesUnder(dir);
    rmSync(join(dir, 'removed'));
    expect(readFiles(listed).map(([path, bytes]) => [path, bytes.toString()])).toEqual([
      [join(dir, 'kept'), 'kept bytes'],
    ]);
  });

  it('still fails on any other error', () => {
    mkdirSync(join(dir, 'directory'), { recursive: true });
    expect(() => readFiles([join(dir, 'directory')])).toThrow(/EISDIR/);
  });
});
