import { Type } from 'typebox';
import { describe, expect, it, vi } from 'vitest';
import { Nullable, OtasFailure, Problem, routes, Timestamp } from '@gatehouse/shared';
import { compileSerializer, forSerialization, serializerCompiler } from './serializers.js';

const serializer = (schema: object) =>
  serializerCompiler({ schema: schema as Record<string, unknown>, method: 'GET', url: '/', httpStatus: '200' });

describe('response serialisers', () => {
  // They compile on a route's first answer: a schema that cannot compile must fail here instead.
  it('compile for every response of the contract and for problems', () => {
    const schemas = Object.entries(routes).flatMap(([name, route]) =>
      Object.entries(route.response ?? {}).map(([status, schema]) => [`${name} ${status}`, schema] as const),
    );
    for (const [name, schema] of [...schemas, ['Problem', Problem] as const, ['OtasFailure', OtasFailure] as const])
      expect(() => compileSerializer(schema as Record<string, unknown>), name).not.toThrow();
  });

  // The validator fast-json-stringify runs to pick whoami's branch warned on stderr, in every
  // process (the CLI's too), that it ignored the contract's name format.
  it("pick a branch without a warning about the contract's own formats", () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const write = compileSerializer(routes.whoami.response[200] as unknown as Record<string, unknown>);
      const user = { principal: 'user', via: 'session', user: { id: 'u1', username: 'ada', tool_ceiling: ['git'] } };
      expect(() => write(user)).not.toThrow(/format/);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('leave no anyOf in any response of the contract, so no answer runs a validator', () => {
    for (const [name, route] of Object.entries(routes)) {
      for (const schema of Object.values(route.response ?? {})) {
        expect(JSON.stringify(forSerialization(schema as Record<string, unknown>)), name).not.toContain('"anyOf"');
      }
    }
  });

  it('write nullable values, literal unions and one-type-each unions as the contract says', () => {
    const write = serializer(
      Type.Object({
        at: Nullable(Timestamp),
        count: Nullable(Type.Integer()),
        privilege: Nullable(Type.Union([Type.Literal(0), Type.Literal(1)])),
        ceiling: Type.Union([Type.Literal('*'), Type.Array(Type.String())]),
        owner: Nullable(Type.Object({ id: Type.String() })),
      }),
    );
    const some = { at: '2026-11-23T10:00:00.000Z', count: 3, privilege: 1, ceiling: [], owner: { id: 'o1' } };
    expect(JSON.parse(write(some))).toEqual(some);
    const none = { at: null, count: null, privilege: null, ceiling: '*', owner: null };
    expect(JSON.parse(write(none))).toEqual(none);
    expect(JSON.parse(write({ ...some, ceiling: ['web_search'] })).ceiling).toEqual(['web_search']);
  });

  it('tell the branches of a tagged union apart by the tag, and write only the fields of that branch', () => {
    const write = serializer(
      Type.Union([
        Type.Object({ principal: Type.Literal('user'), user: Type.String() }),
        Type.Object({ principal: Type.Literal('agent'), agent: Type.String() }),
        Type.Object({ principal: Type.Literal('agent_user'), node: Type.String() }),
      ]),
    );
    const extra = { secret_hash: 'never sent', user: 'u', agent: 'a', node: 'n' };
    expect(JSON.parse(write({ principal: 'agent', ...extra }))).toEqual({ principal: 'agent', agent: 'a' });
    expect(JSON.parse(write({ principal: 'user', ...extra }))).toEqual({ principal: 'user', user: 'u' });
    expect(JSON.parse(write({ principal: 'agent_user', ...extra }))).toEqual({ principal: 'agent_user', node: 'n' });
  });
});
