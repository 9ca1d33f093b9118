import { describe, expect, it } from 'vitest';
import { routes, type RouteDescriptor } from '@gatehouse/shared';
import { compileValidator, contractValidatorCompiler, validatorCompiler } from './validators.js';

const validator = (schema: object, httpPart: string) =>
  validatorCompiler({ schema, httpPart, method: 'POST', url: '/' }) as ((data: unknown) => boolean) & {
    errors?: unknown;
  };

describe('request validators', () => {
  // They compile on a route's first request: a schema that cannot compile must fail here instead.
  it('compile for every request schema of the contract', () => {
    for (const [name, route] of Object.entries(routes as Record<string, RouteDescriptor>)) {
      for (const httpPart of ['params', 'querystring', 'body'] as const) {
        const schema = route[httpPart];
        if (schema) expect(() => compileValidator(schema, httpPart), `${name} ${httpPart}`).not.toThrow();
      }
    }
  });

  it('report each failure through errors, where Fastify reads it, and clear it on success', () => {
    const validate = validator(routes.login.body!, 'body');
    expect(validate({ username: 'admin' })).toBe(false);
    expect(validate.errors).toEqual([expect.objectContaining({ params: { missingProperty: 'password' } })]);
    expect(validate({ username: 'admin', password: 'correct horse' })).toBe(true);
    expect(validate.errors).toBeNull();
  });

  it('coerce query strings but never bodies', () => {
    const schema = { type: 'object', properties: { limit: { type: 'integer' } } };
    const query = { limit: '20' };
    expect(validator(schema, 'querystring')(query)).toBe(true);
    expect(query.limit).toBe(20);
    expect(validator(schema, 'body')({ limit: '20' })).toBe(false);
  });

  // Fastify hands a validator null for a request with no body, and takes `{ value }` as the body.
  it('read no body as {} on contract routes (defaults filled in), and nowhere else', () => {
    const schema = { type: 'object', properties: { note: { type: 'string', default: 'none' } } };
    const contract = (httpPart: string) =>
      contractValidatorCompiler({ schema, httpPart, method: 'POST', url: '/' }) as (data: unknown) => unknown;
    expect(contract('body')(null)).toEqual({ value: { note: 'none' } });
    expect(contract('body')({ note: 'sent' })).toBe(true);
    expect(contract('querystring')(null)).toBe(false);
    expect(validator(schema, 'body')(null)).toBe(false);

    const required = contractValidatorCompiler({
      schema: routes.login.body!,
      httpPart: 'body',
      method: 'POST',
      url: '/',
    }) as ((data: unknown) => unknown) & { errors?: unknown };
    expect(required(null)).toBe(false);
    expect(required.errors).toEqual(expect.arrayContaining([expect.objectContaining({ keyword: 'required' })]));
  });
});
