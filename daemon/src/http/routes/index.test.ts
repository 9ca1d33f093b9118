import { routes, type RouteDescriptor } from '@gatehouse/shared';
import { describe, expect, it } from 'vitest';
import { routeBindings } from './index.js';

describe('route bindings', () => {
  it('implement every route of the contract exactly once, and nothing else', () => {
    const contract = new Map<RouteDescriptor, string>(Object.entries(routes).map(([name, route]) => [route, name]));
    const bound = routeBindings.map(
      ({ route }) => contract.get(route) ?? `${route.method} ${route.path} (not in the contract)`,
    );
    expect([...bound].sort()).toEqual(Object.keys(routes).sort());
  });
});
