import { describe, expect, it } from 'vitest';
import type { RouteDescriptor } from '../route.js';
import { Paging } from '../schemas/common.js';
import { routes } from './index.js';

const table: Array<[string, RouteDescriptor]> = Object.entries(routes);

describe('the route table', () => {
  it('declares each method and path once', () => {
    const seen = new Map<string, string>();
    for (const [name, route] of table) {
      const key = `${route.method} ${route.path.replace(/\{\w+\}/g, '{}')}`;
      expect(seen.get(key), `${name} and ${seen.get(key)} are both ${key}`).toBeUndefined();
      seen.set(key, name);
    }
  });

  it("names each path placeholder in the route's params schema, and nothing else", () => {
    for (const [name, route] of table) {
      const placeholders = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      const params = Object.keys(route.params?.properties ?? {}).sort();
      expect(params, name).toEqual(placeholders);
    }
  });

  it('gives every route a success answer, and every paged list the shared paging parameters', () => {
    for (const [name, route] of table) {
      expect(Object.keys(route.response).length, name).toBeGreaterThan(0);
      if (!route.paged) continue;
      expect(route.method, name).toBe('GET');
      expect(route.querystring?.properties.limit, name).toBe(Paging.limit);
      expect(route.querystring?.properties.offset, name).toBe(Paging.offset);
    }
  });

  it('keeps every path absolute and every OTAS route in its envelope', () => {
    for (const [name, route] of table) {
      expect(route.path, name).toMatch(/^\//);
      if (route.tag === 'otas') expect(route.otas, name).toBeDefined();
    }
  });
});
