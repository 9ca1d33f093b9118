import { describe, expect, it } from 'vitest';
import { connectionFormResolver, emptyConnectionForm, type ConnectionForm } from './connection-form.js';

const check = (changes: Partial<ConnectionForm>) =>
  connectionFormResolver({ ...emptyConnectionForm, ...changes }, undefined, {
    fields: {},
    shouldUseNativeValidation: false,
  });

describe('the add-connection form', () => {
  it('sends a secret connection as the contract has it, trimmed, with only what was filled in', async () => {
    const { values, errors } = await check({
      name: ' openai ',
      base_url: 'https://api.openai.com/v1 ',
      secret: 'sk-test',
      methods: ['GET', 'POST'],
      paths: '/chat/**\n\n /models \n',
    });
    expect(errors).toEqual({});
    expect(values).toEqual({
      name: 'openai',
      base_url: 'https://api.openai.com/v1',
      secret: 'sk-test',
      injection: { kind: 'header', name: 'Authorization', template: 'Bearer {secret}' },
      allowed_methods: ['GET', 'POST'],
      allowed_paths: ['/chat/**', '/models'],
    });
  });

  it('sends an OAuth connection with its client and scopes, and no secret', async () => {
    const { values, errors } = await check({
      name: 'github',
      base_url: 'https://api.github.com',
      credential: 'oauth',
      secret: 'left over from the other choice',
      authorization_url: 'https://github.com/login/oauth/authorize',
      token_url: 'https://github.com/login/oauth/access_token',
      client_id: 'Iv1.abc',
      scopes: 'repo, read:user',
      injection: 'query',
      query_name: 'access_token',
    });
    expect(errors).toEqual({});
    expect(values).toMatchObject({
      oauth: {
        authorization_url: 'https://github.com/login/oauth/authorize',
        token_url: 'https://github.com/login/oauth/access_token',
        client_id: 'Iv1.abc',
        scopes: ['repo', 'read:user'],
      },
      injection: { kind: 'query', name: 'access_token' },
    });
    expect(values).not.toHaveProperty('secret');
  });

  it('asks for what each kind of credential needs, on its own fields', async () => {
    expect((await check({ name: 'openai', base_url: 'https://api.openai.com' })).errors).toEqual({
      secret: { type: 'required', message: 'Required.' },
    });
    expect((await check({ name: 'github', base_url: 'https://api.github.com', credential: 'oauth' })).errors).toEqual({
      authorization_url: { type: 'required', message: 'Required.' },
      token_url: { type: 'required', message: 'Required.' },
      client_id: { type: 'required', message: 'Required.' },
    });
  });
});
