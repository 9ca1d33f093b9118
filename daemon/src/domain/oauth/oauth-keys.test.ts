import { afterEach, describe, expect, it } from 'vitest';
import { replicaDatabases } from '../../testing/replica-databases.js';
import { testDatabaseServer } from '../../testing/test-database.js';
import { loadOAuthKeys } from './oauth-keys.js';

const server = testDatabaseServer();

describe.skipIf(!server)('loadOAuthKeys on PostgreSQL (needs GATEHOUSE_TEST_DATABASE_URL)', () => {
  let dispose: (() => Promise<void>) | undefined;
  afterEach(() => dispose?.());

  it('makes one set of keys when two replicas load them together on an empty database', async () => {
    const replicas = await replicaDatabases(server!, 2);
    dispose = replicas.dispose;
    const [a, b] = await Promise.all(replicas.replicas.map(({ db, secrets }) => loadOAuthKeys(db, secrets)));
    expect(a!.signingKey.kid).toEqual(b!.signingKey.kid);
    expect(a).toEqual(b);
  });
});
