import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StartupError } from '../errors.js';
import { Database } from '../storage/database.js';
import { SealedSecretRows } from '../storage/sealed-secret-rows.js';
import { DatabaseSecretStore } from './database-store.js';
import { readKeyEncryptionKey, type KeyEncryptionKey } from './key-encryption-key.js';
import { SecretStoreUnavailableError } from './secret-store.js';

const newKek = (variable = 'GATEHOUSE_KEK'): KeyEncryptionKey =>
  readKeyEncryptionKey({ base64: randomBytes(32).toString('base64'), variable });

describe('the database secret store (real SQLite file, real migrations)', () => {
  let dir: string;
  let path: string;
  let db: Database;
  let rows: SealedSecretRows;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-sealed-'));
    path = join(dir, 'gatehouse.db');
    db = await Database.open({ sqlite: path });
    rows = new SealedSecretRows(db);
  });
  afterEach(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The database file and its WAL, byte for byte, as someone with a copy of them would see it. */
  const fileBytes = () =>
    Buffer.concat([readFileSync(path), ...(existsSync(`${path}-wal`) ? [readFileSync(`${path}-wal`)] : [])]);

  it('keeps secrets across reopening, with neither plaintext in the database file nor its WAL', async () => {
    const kek = newKek();
    const store = await DatabaseSecretStore.open(rows, kek);
    const secrets = { 'totp:u1': 'JBSWY3DPEHPK3PXP-PLAINTEXT', 'agent-key:k1': 'agent_ünïcødé PLAINTEXT secret' };
    for (const [account, secret] of Object.entries(secrets)) await store.set(account, secret);
    await store.set('connection:c1', 'first PLAINTEXT');
    await store.set('connection:c1', 'sk-live-PLAINTEXT-second');
    expect(await store.delete('agent-key:gone')).toBe(false);

    const bytes = fileBytes();
    for (const secret of [...Object.values(secrets), 'first PLAINTEXT', 'sk-live-PLAINTEXT-second']) {
      expect(bytes.includes(Buffer.from(secret))).toBe(false);
    }
    expect(bytes.includes(Buffer.from('PLAINTEXT'))).toBe(false);
    expect(bytes.includes(kek.key)).toBe(false);
    expect(bytes.includes(Buffer.from(kek.key.toString('base64')))).toBe(false);

    await db.close();
    db = await Database.open({ sqlite: path });
    rows = new SealedSecretRows(db);
    const reopened = await DatabaseSecretStore.open(rows, kek);
    expect(await reopened.get('totp:u1')).toBe(secrets['totp:u1']);
    expect(await reopened.get('agent-key:k1')).toBe(secrets['agent-key:k1']);
    expect(await reopened.get('connection:c1')).toBe('sk-live-PLAINTEXT-second');
    expect([...(await reopened.list()).keys()]).toEqual(['agent-key:k1', 'connection:c1', 'totp:u1']);
    expect(await reopened.delete('totp:u1')).toBe(true);
    expect(await reopened.get('totp:u1')).toBeNull();
    expect(reopened.backend).toBe('database');
    expect(reopened.description).toContain(kek.id);
  });

  it('seals each secret under a data key of its own: the same secret twice gives unrelated rows', async () => {
    const store = await DatabaseSecretStore.open(rows, newKek());
    await store.set('a', 'same secret');
    await store.set('b', 'same secret');
    const [a, b] = [(await rows.get('a'))!, (await rows.get('b'))!];
    expect(a.wrapped_key.equals(b.wrapped_key)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(a.nonce.equals(b.nonce)).toBe(false);
  });

  it('refuses a tampered ciphertext, tag or wrapped key, and a row moved onto another account', async () => {
    const store = await DatabaseSecretStore.open(rows, newKek());
    await store.set('totp:u1', 'JBSWY3DPEHPK3PXP');
    await store.set('totp:u2', 'KRSXG5CTMVRXEZLU');
    const flip = (buffer: Buffer) => Buffer.from(buffer.map((byte, i) => (i === 0 ? byte ^ 1 : byte)));
    const original = (await rows.get('totp:u1'))!;

    for (const column of ['ciphertext', 'tag', 'nonce', 'wrapped_key', 'key_tag', 'key_nonce'] as const) {
      await rows.put({ ...original, [column]: flip(original[column]) });
      await expect(store.get('totp:u1'), column).rejects.toBeInstanceOf(SecretStoreUnavailableError);
    }
    await rows.put({ ...(await rows.get('totp:u2'))!, account: 'totp:u1' });
    await expect(store.get('totp:u1')).rejects.toThrow(/does not open with this key-encryption key/);
    // The refusal names the account, never what was in it.
    await expect(store.get('totp:u1')).rejects.not.toThrow(/KRSXG5CTMVRXEZLU/);

    await rows.put(original);
    expect(await store.get('totp:u1')).toBe('JBSWY3DPEHPK3PXP');
  });

  it('refuses to open with another key-encryption key, naming both key ids and changing nothing', async () => {
    const right = newKek();
    await (await DatabaseSecretStore.open(rows, right)).set('daemon-signing-key', 'PRIVATE KEY');
    const before = await rows.get('daemon-signing-key');

    const wrong = newKek();
    const opening = DatabaseSecretStore.open(rows, wrong);
    await expect(opening).rejects.toBeInstanceOf(StartupError);
    await expect(opening).rejects.toThrow(`(id ${wrong.id}) does not open the secrets in the database`);
    await expect(opening).rejects.toThrow(`wrapped under key id ${right.id}`);
    expect(await rows.get('daemon-signing-key')).toEqual(before);
  });

  it('refuses a key whose id matches but that fails to open the rows (an altered table)', async () => {
    const kek = newKek();
    await (await DatabaseSecretStore.open(rows, kek)).set('oauth-keys', '{"k":1}');
    const row = (await rows.get('oauth-keys'))!;
    await rows.put({ ...row, key_tag: randomBytes(16) });
    await expect(DatabaseSecretStore.open(rows, kek)).rejects.toThrow(/fails to open the secret "oauth-keys"/);
  });

  it('rotates: re-wraps every data key under the new key, after which the old key opens nothing', async () => {
    const old = newKek('GATEHOUSE_PREVIOUS_KEK');
    const store = await DatabaseSecretStore.open(rows, old);
    const secrets = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`agent-key:k${i}`, `agent_secret_${i}`]));
    for (const [account, secret] of Object.entries(secrets)) await store.set(account, secret);
    const oldWrapped = (await Promise.all(Object.keys(secrets).map((a) => rows.get(a)))).map((r) => r!.wrapped_key);
    const oldCiphertexts = (await Promise.all(Object.keys(secrets).map((a) => rows.get(a)))).map((r) => r!.ciphertext);

    const next = newKek();
    const rotated = await DatabaseSecretStore.open(rows, next, old);
    expect(rotated.rewrapped).toBe(20);
    for (const [account, secret] of Object.entries(secrets)) expect(await rotated.get(account)).toBe(secret);
    expect((await rows.samplesByKey()).map((row) => row.kek_id)).toEqual([next.id]);

    // The secrets themselves were not re-encrypted, only their data keys re-wrapped.
    const after = await Promise.all(Object.keys(secrets).map((a) => rows.get(a)));
    expect(after.map((r) => r!.ciphertext)).toEqual(oldCiphertexts);
    // The old wrapped keys are gone from the file and the WAL, not just from the live rows.
    const bytes = fileBytes();
    for (const wrapped of oldWrapped) expect(bytes.includes(wrapped)).toBe(false);

    await expect(DatabaseSecretStore.open(rows, old)).rejects.toThrow(`wrapped under key id ${next.id}`);
    // Starting again with both keys is harmless: nothing is left under the old one.
    expect((await DatabaseSecretStore.open(rows, next, old)).rewrapped).toBe(0);
  });

  it('a rotation that fails half-way leaves every data key under the old key', async () => {
    const old = newKek();
    const store = await DatabaseSecretStore.open(rows, old);
    for (let i = 0; i < 5; i++) await store.set(`totp:u${i}`, `secret ${i}`);
    const third = (await rows.get('totp:u2'))!;
    // An altered row the check at open does not sample: the re-wrap fails on it, mid-way.
    await rows.put({ ...third, key_tag: randomBytes(16) });

    await expect(DatabaseSecretStore.open(rows, newKek(), old)).rejects.toThrow();
    expect((await rows.samplesByKey()).map((row) => row.kek_id)).toEqual([old.id]);
    const reopened = await DatabaseSecretStore.open(rows, old);
    expect(await reopened.get('totp:u4')).toBe('secret 4');
  });

  it('writes inside a failing database transaction roll back with it; outside one they land alone', async () => {
    const store = await DatabaseSecretStore.open(rows, newKek());
    await store.set('connection:kept', 'before');
    const failing = db.write(async () => {
      await store.set('connection:new', 'never stored');
      await store.set('connection:kept', 'overwritten then rolled back');
      await store.delete('agent-key:none');
      throw new Error('the insert after the secret failed');
    });
    await expect(failing).rejects.toThrow('the insert after the secret failed');
    expect(await store.get('connection:new')).toBeNull();
    expect(await store.get('connection:kept')).toBe('before');

    // A write a transaction's callback left for later lands on its own once that transaction is over.
    let later!: Promise<void>;
    await db.write(async () => {
      later = new Promise((resolve) => setTimeout(resolve, 20)).then(() => store.set('connection:late', 'later'));
    });
    // …not inside whichever transaction holds the shared connection by then, which rolls back.
    const rolledBack = db.write(async () => {
      await new Promise((resolve) => setTimeout(resolve, 80));
      throw new Error('rolled back');
    });
    await expect(rolledBack).rejects.toThrow('rolled back');
    await later;
    expect(await store.get('connection:late')).toBe('later');

    // Concurrent writes outside a transaction are serialised with the daemon's other writes.
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.set(`agent-key:p${i}`, `parallel ${i}`)));
    expect((await store.list()).size).toBe(12);
  });
});

describe('reading a key-encryption key', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'gatehouse-kek-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes base64 of 32 bytes from the environment or a file, or the 32 raw bytes from a file', async () => {
    const key = randomBytes(32);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'b64'), `${key.toString('base64')}\n`);
    writeFileSync(join(dir, 'raw'), key);
    const fromEnv = readKeyEncryptionKey({ base64: key.toString('base64'), variable: 'GATEHOUSE_KEK' });
    expect(readKeyEncryptionKey({ file: join(dir, 'b64') }).id).toBe(fromEnv.id);
    expect(readKeyEncryptionKey({ file: join(dir, 'raw') }).key.equals(key)).toBe(true);
    expect(fromEnv.id).not.toContain(key.toString('hex').slice(0, 8));
  });

  it('refuses a short key, a typo in the base64 and a missing file with one line naming the source', () => {
    const short = randomBytes(16).toString('base64');
    expect(() => readKeyEncryptionKey({ base64: short, variable: 'GATEHOUSE_KEK' })).toThrow(
      /^The key-encryption key in GATEHOUSE_KEK is not 32 bytes/,
    );
    expect(() =>
      readKeyEncryptionKey({ base64: `${randomBytes(32).toString('base64')}!`, variable: 'GATEHOUSE_KEK' }),
    ).toThrow(StartupError);
    expect(() => readKeyEncryptionKey({ file: join(dir, 'missing') })).toThrow(
      `Cannot read the key-encryption key file ${join(dir, 'missing')} (ENOENT).`,
    );
  });
});
