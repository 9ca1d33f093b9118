import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPath, routes, type RouteDescriptor } from '@gatehouse/shared';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

describe('answers outside the routes and at their edges', () => {
  let t: TestDaemon;
  let root: string;
  beforeAll(async () => {
    t = await startTestDaemon();
    root = (await t.setupAdmin()).access_token;
  });
  afterAll(() => t.dispose());

  it('refuses a huge or non-finite offset on every list with a 400 problem', async () => {
    const lists = Object.values<RouteDescriptor>(routes).filter((route) => route.paged);
    expect(lists.length).toBeGreaterThan(5);
    for (const route of lists) {
      const params = Object.fromEntries([...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name!, 'x']));
      for (const offset of ['1e309', '999999999999999999999999999999', '-1']) {
        const answer = await t.request(route.method, `${buildPath(route.path, params)}?offset=${offset}`, {
          token: root,
        });
        expect([route.path, offset, answer.status, answer.body.code]).toEqual([
          route.path,
          offset,
          400,
          'validation_failed',
        ]);
      }
    }
  });
});
