import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscoveryFile } from '@gatehouse/shared';
import { spawnGatehouse, waitForDaemon, type SpawnedDaemon } from './testing/spawn-daemon.js';
import { ADMIN } from './testing/test-daemon.js';

/**
 * The real failure: a daemon on a real gnome-keyring whose collection gets locked while it runs
 * (what a screen lock does on a desktop). The daemon has a keyring session of its own, so locking
 * it does not disturb the tests that share the suite's keyring.
 */
describe('when the OS keychain gets locked under a running daemon', () => {
  let home: string;
  let daemon: SpawnedDaemon;
  let info: DiscoveryFile;
  let admin: string;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(info.url + path, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'gatehouse-locked-'));
    const addressFile = join(home, 'dbus-address');
    daemon = spawnGatehouse(
      ['daemon', '--quiet', '--home', home, '--port', '0'],
      {},
      { privateKeyringAddressFile: addressFile },
    );
    info = await waitForDaemon(home, daemon, 30_000);
    const post = (path: string, body: unknown) =>
      fetch(info.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await post('/auth/setup', ADMIN);
    admin = ((await (await post('/auth/login', ADMIN)).json()) as { access_token: string }).access_token;

    expect((await call('POST', '/admin/agents', { name: 'before-lock' })).status).toBe(201);
    execFileSync(
      'dbus-send',
      [
        '--session',
        '--print-reply',
        '--dest=org.freedesktop.secrets',
        '/org/freedesktop/secrets',
        'org.freedesktop.Secret.Service.Lock',
        'array:objpath:/org/freedesktop/secrets/collection/login',
      ],
      { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: readFileSync(addressFile, 'utf8') }, stdio: 'ignore' },
    );
  }, 60_000);

  afterAll(async () => {
    if (info) process.kill(info.pid, 'SIGTERM');
    await daemon?.exited;
    rmSync(home, { recursive: true, force: true });
  });

  it('answers 503 keychain_unavailable for a new key, saying what to do in words, and stores no row', async () => {
    const refused = await call('POST', '/admin/agents/before-lock/keys', {});
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('keychain_unavailable');
    expect(refused.body.detail).toMatch(/^The OS keychain is locked\. Unlock your login keyring/);
    expect(refused.body.detail).not.toMatch(/collection|dbus|org\.freedesktop/i);
    expect((await call('GET', '/v1/agents/before-lock/keys')).body).toEqual([]);
  });

  it('shows the keychain locked in /v1/status, with what the user can do', async () => {
    const status = await call('GET', '/v1/status');
    expect(status.body.keychain).toMatchObject({
      backend: 'keychain',
      health: 'locked',
      detail: expect.stringMatching(/^The OS keychain is locked\. Unlock/),
    });
  });

  it('answers 503 for a new agent (its identity key cannot be kept), and stores no agent', async () => {
    const refused = await call('POST', '/admin/agents', { name: 'during-lock', issue_key: true });
    expect(refused.status).toBe(503);
    expect((await call('GET', '/v1/agents/during-lock')).status).toBe(404);
  });

  it('goes on serving everything that needs no secret', async () => {
    expect((await call('GET', '/v1/agents')).body.map((a: { name: string }) => a.name)).toEqual(['before-lock']);
    expect((await call('GET', '/v1/audit/verify')).body.is_valid).toBe(true);
  });
});

describe('when the OS keychain is locked as the daemon starts', () => {
  it('refuses to start, saying the keychain is locked (not that a key is missing)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'gatehouse-locked-start-'));
    try {
      const daemon = spawnGatehouse(
        ['daemon', '--quiet', '--home', home, '--port', '0'],
        {},
        { privateKeyringAddressFile: join(home, 'dbus-address'), lockKeyringFirst: true },
      );
      expect(await daemon.exited).not.toBe(0);
      expect(daemon.output()).toMatch(/^gatehoused: The OS keychain is locked\. Unlock your login keyring/m);
      expect(daemon.output()).not.toMatch(/signing key/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});
