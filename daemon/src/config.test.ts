import { describe, expect, it } from 'vitest';
import { redactedDatabaseUrl, resolveConfig } from './config.js';
import { defaultHome } from './home.js';
import { StartupError } from './errors.js';

const KEK = Buffer.alloc(32, 1).toString('base64');

describe('resolveConfig', () => {
  it('defaults to loopback port 7420, the keychain, service "gatehouse" and the platform data dir', () => {
    const config = resolveConfig({}, { XDG_DATA_HOME: '/data' });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 7420,
      secretStore: 'keychain',
      keychainService: 'gatehouse',
      allowOrigins: [],
    });
    expect(config.home).toBe(
      process.platform === 'linux' ? '/data/gatehouse' : defaultHome({ XDG_DATA_HOME: '/data' }),
    );
  });

  it('takes flags over environment variables', () => {
    const env = { GATEHOUSE_HOME: '/env-home', GATEHOUSE_PORT: '9000', GATEHOUSE_KEYCHAIN_SERVICE: 'svc' };
    expect(resolveConfig({}, env)).toMatchObject({ home: '/env-home', port: 9000, keychainService: 'svc' });
    expect(resolveConfig({ home: '/flag-home', port: '0' }, env)).toMatchObject({ home: '/flag-home', port: 0 });
  });

  it('rotates the log at 10 MiB keeping 5 files unless told otherwise, and refuses nonsense', () => {
    expect(resolveConfig({}, {})).toMatchObject({ logMaxSize: '10m', logMaxFiles: 5 });
    const env = { GATEHOUSE_LOG_MAX_SIZE: '512k', GATEHOUSE_LOG_MAX_FILES: '3' };
    expect(resolveConfig({}, env)).toMatchObject({ logMaxSize: '512k', logMaxFiles: 3 });
    expect(resolveConfig({ logMaxSize: '1g', logMaxFiles: '2' }, env)).toMatchObject({
      logMaxSize: '1g',
      logMaxFiles: 2,
    });
    for (const input of [{ logMaxSize: 'huge' }, { logMaxSize: '0' }, { logMaxFiles: '0' }, { logMaxFiles: 'all' }]) {
      expect(() => resolveConfig(input, {})).toThrow(StartupError);
    }
  });

  it('knows each platform default data dir', () => {
    expect(defaultHome({ XDG_DATA_HOME: '/x' }, 'linux')).toBe('/x/gatehouse');
    expect(defaultHome({}, 'darwin')).toMatch(/Library\/Application Support\/Gatehouse$/);
    expect(defaultHome({ APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, 'win32')).toMatch(/Gatehouse$/);
  });

  it.each([
    [{ port: 'abc' }, {}, /Invalid port "abc"/],
    [{ port: '70000' }, {}, /Invalid port "70000"/],
    [{ secretStore: 'plaintext' }, {}, /Invalid secret store "plaintext"/],
    [{ secretStore: 'file' }, {}, /needs the passphrase in GATEHOUSE_PASSPHRASE/],
    [{ secretStore: 'database' }, {}, /--secret-store=database needs the key-encryption key/],
    [{ secretStore: 'database' }, { GATEHOUSE_KEK: 'c2hvcnQ=' }, /in GATEHOUSE_KEK is not 32 bytes/],
    [
      { secretStore: 'database' },
      { GATEHOUSE_KEK: KEK, GATEHOUSE_PREVIOUS_KEK: KEK },
      /is the same key as the new one/,
    ],
    [{ host: '0.0.0.0' }, {}, /needs --allow-remote/],
    [{ host: '0.0.0.0', allowRemote: true }, {}, /without TLS/],
  ])('refuses %o with a clear StartupError', (input, env, message) => {
    expect(() => resolveConfig(input, env)).toThrow(StartupError);
    expect(() => resolveConfig(input, env)).toThrow(message);
  });

  it('keeps the key-encryption keys only for the database store, a --kek-file winning over the environment', () => {
    const other = Buffer.alloc(32, 7).toString('base64');
    const config = resolveConfig(
      { secretStore: 'database' },
      { GATEHOUSE_KEK: KEK, GATEHOUSE_PREVIOUS_KEK: other, GATEHOUSE_SECRET_STORE: 'file' },
    );
    expect(config.secretStore).toBe('database');
    expect(config.kek!.key.toString('base64')).toBe(KEK);
    expect(config.kek!.source).toBe('GATEHOUSE_KEK');
    expect(config.previousKek!.key.toString('base64')).toBe(other);
    expect(resolveConfig({}, { GATEHOUSE_KEK: KEK }).kek).toBeUndefined();
    expect(() =>
      resolveConfig({ secretStore: 'database', kekFile: '/nonexistent/kek' }, { GATEHOUSE_KEK: KEK }),
    ).toThrow('Cannot read the key-encryption key file /nonexistent/kek (ENOENT).');
  });

  it('runs on SQLite unless --database or GATEHOUSE_DATABASE_URL names a PostgreSQL database', () => {
    expect(resolveConfig({}, {}).databaseUrl).toBeUndefined();
    const url = 'postgres://gatehouse:s3cret@db.internal:5432/gatehouse';
    expect(resolveConfig({}, { GATEHOUSE_DATABASE_URL: url }).databaseUrl).toBe(url);
    expect(resolveConfig({ database: 'postgresql://db/a' }, { GATEHOUSE_DATABASE_URL: url }).databaseUrl).toBe(
      'postgresql://db/a',
    );
    expect(() => resolveConfig({ database: 'mysql://db/a' }, {})).toThrow(StartupError);
    expect(() => resolveConfig({ database: '/var/lib/gatehouse.db' }, {})).toThrow(/give a PostgreSQL URL/);
    // Shown on the status page and in startup errors without its password.
    expect(redactedDatabaseUrl(url)).toBe('postgres://gatehouse:***@db.internal:5432/gatehouse');
  });

  it('keeps the passphrase only for the file store', () => {
    expect(resolveConfig({ secretStore: 'file' }, { GATEHOUSE_PASSPHRASE: 'p' }).passphrase).toBe('p');
    expect(resolveConfig({}, { GATEHOUSE_PASSPHRASE: 'p' }).passphrase).toBeUndefined();
  });

  it('lists no metadata-document host unless GATEHOUSE_OAUTH_METADATA_HOSTS names some, and refuses anything but host[:port]', () => {
    expect(resolveConfig({}, {}).oauthMetadataHosts).toEqual([]);
    expect(
      resolveConfig({}, { GATEHOUSE_OAUTH_METADATA_HOSTS: 'Localhost:8443, clients.example.com:443' })
        .oauthMetadataHosts,
    ).toEqual(['localhost:8443', 'clients.example.com']);
    for (const hosts of ['https://a.example', 'a.example/path', 'user@a.example', 'a.example:99999']) {
      expect(() => resolveConfig({}, { GATEHOUSE_OAUTH_METADATA_HOSTS: hosts })).toThrow(
        'in GATEHOUSE_OAUTH_METADATA_HOSTS',
      );
    }
  });

  it('takes each --allow-origin as a browser sends it, once, and refuses anything that is not one origin', () => {
    const config = resolveConfig({
      allowOrigins: ['https://Console.Example:8443', 'http://localhost:5173/', 'https://console.example:8443'],
    });
    expect(config.allowOrigins).toEqual(['https://console.example:8443', 'http://localhost:5173']);
    for (const origin of [
      '*',
      'null',
      'https://a.example/path',
      'https://a.example?x=1',
      'ftp://a.example',
      'a.example',
    ]) {
      expect(() => resolveConfig({ allowOrigins: [origin] })).toThrow(StartupError);
    }
  });
});
