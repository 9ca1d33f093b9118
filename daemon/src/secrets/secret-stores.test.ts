import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import keytar from 'keytar';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StartupError } from '../errors.js';
import { testKeychainService } from '../testing/test-daemon.js';
import { EncryptedFileSecretStore } from './encrypted-file-store.js';
import { KeytarSecretStore } from './keytar-store.js';

describe('the OS keychain store (real Secret Service)', () => {
  const service = testKeychainService();
  const store = new KeytarSecretStore(service);
  afterAll(async () => {
    for (const { account } of await keytar.findCredentials(service)) await keytar.deletePassword(service, account);
  });

  it('stores, reads back and deletes a secret under its service name', async () => {
    const secret = 'agent_Ab3dEf9h_ünïcødé and spaces';
    await store.set('agent-key:one', secret);
    expect(await store.get('agent-key:one')).toBe(secret);
    // Another program on the machine sees the same item, as a local agent would.
    expect(await keytar.getPassword(service, 'agent-key:one')).toBe(secret);
    expect(await store.delete('agent-key:one')).toBe(true);
    expect(await store.delete('agent-key:one')).toBe(false);
    expect(await store.get('agent-key:one')).toBeNull();
  });

  it('overwrites an existing entry in place', async () => {
    await store.set('agent:default/a', 'first');
    await store.set('agent:default/a', 'second');
    expect(await store.get('agent:default/a')).toBe('second');
    expect((await keytar.findCredentials(service)).filter((c) => c.account === 'agent:default/a')).toHaveLength(1);
  });

  it('describes itself by backend and service name', () => {
    expect(store.backend).toBe('keychain');
    expect(store.description).toContain(`"${service}"`);
  });
});

describe('the encrypted-file store', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-secrets-'));
    path = join(dir, 'secrets.enc');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps secrets across reopening, in a 0600 file that shows neither secrets nor account names', async () => {
    const store = await EncryptedFileSecretStore.open(path, 'the passphrase');
    await store.set('agent-key:k1', 'agent_PLAINTEXT_secret');
    await store.set('agent:default/researcher', 'agent_PLAINTEXT_secret');
    await store.delete('agent:default/researcher');

    expect(statSync(path).mode & 0o777).toBe(0o600);
    const onDisk = readFileSync(path, 'utf8');
    expect(onDisk).not.toContain('PLAINTEXT');
    expect(onDisk).not.toContain('agent-key');

    const reopened = await EncryptedFileSecretStore.open(path, 'the passphrase');
    expect(await reopened.get('agent-key:k1')).toBe('agent_PLAINTEXT_secret');
    expect(await reopened.get('agent:default/researcher')).toBeNull();
  });

  it('refuses a wrong passphrase with a clear error and leaves the file byte for byte as it was', async () => {
    const store = await EncryptedFileSecretStore.open(path, 'the passphrase');
    await store.set('totp:u1', 'JBSWY3DPEHPK3PXP');
    const before = readFileSync(path);

    const opening = EncryptedFileSecretStore.open(path, 'not the passphrase');
    await expect(opening).rejects.toBeInstanceOf(StartupError);
    await expect(opening).rejects.toThrow(/Wrong GATEHOUSE_PASSPHRASE/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('refuses a file that was altered, and a file that is not a secrets file', async () => {
    const store = await EncryptedFileSecretStore.open(path, 'the passphrase');
    await store.set('totp:u1', 'JBSWY3DPEHPK3PXP');
    const sealed = JSON.parse(readFileSync(path, 'utf8'));
    const data = Buffer.from(sealed.data, 'base64');
    data[0]! ^= 1;
    writeFileSync(path, JSON.stringify({ ...sealed, data: data.toString('base64') }));
    await expect(EncryptedFileSecretStore.open(path, 'the passphrase')).rejects.toThrow(/altered/);

    writeFileSync(path, 'not json');
    await expect(EncryptedFileSecretStore.open(path, 'the passphrase')).rejects.toThrow(/not a Gatehouse secrets file/);
    expect(readFileSync(path, 'utf8')).toBe('not json');
  });

  it('applies concurrent writes one after another without losing any', async () => {
    const store = await EncryptedFileSecretStore.open(path, 'the passphrase');
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.set(`agent-key:${i}`, `secret-${i}`)));
    const reopened = await EncryptedFileSecretStore.open(path, 'the passphrase');
    for (let i = 0; i < 20; i++) expect(await reopened.get(`agent-key:${i}`)).toBe(`secret-${i}`);
  });
});
