import { afterEach, describe, expect, it } from 'vitest';
import { SigningKeyEntity } from '../../storage/entities.js';
import { replicaDatabases } from '../../testing/replica-databases.js';
import { testDatabaseServer } from '../../testing/test-database.js';
import { TokenSigner } from './token-signer.js';

const server = testDatabaseServer();

describe.skipIf(!server)('TokenSigner.load on PostgreSQL (needs GATEHOUSE_TEST_DATABASE_URL)', () => {
  let dispose: (() => Promise<void>) | undefined;
  afterEach(() => dispose?.());

  it('makes one signing key when two replicas load it together on an empty database', async () => {
    const replicas = await replicaDatabases(server!, 2);
    dispose = replicas.dispose;
    const [a, b] = await Promise.all(replicas.replicas.map(({ db, secrets }) => TokenSigner.load(db, secrets)));
    expect(a!.jwks()).toEqual(b!.jwks());
    // A token either signs, the other verifies.
    expect(await b!.verify(await a!.sign({ sub: 'someone' }, 60))).toMatchObject({ sub: 'someone' });
    expect(await a!.verify(await b!.sign({ sub: 'someone' }, 60))).toMatchObject({ sub: 'someone' });
    expect(await replicas.replicas[0]!.db.manager.count(SigningKeyEntity)).toBe(1);
  });
});
