import { describe, expect, it, vi } from 'vitest';
import { LoginRequest } from '@gatehouse/shared';
import { ApiError } from '../api.js';
import { problem } from '../testing/console.js';
import { contractResolver, showProblemOnFields } from './forms.js';

type LoginForm = { username: string; password: string; code: string };
const toBody = ({ username, password, code }: LoginForm) => ({
  username,
  password,
  ...(code ? { totp_code: code } : {}),
});
const resolve = (values: LoginForm) =>
  contractResolver(LoginRequest, toBody, { totp_code: 'code' })(values, undefined, {
    fields: {},
    shouldUseNativeValidation: false,
  });

describe('contractResolver', () => {
  it('passes the body the contract accepts', async () => {
    expect(await resolve({ username: 'admin', password: 'secret', code: '' })).toEqual({
      values: { username: 'admin', password: 'secret' },
      errors: {},
    });
  });

  it('puts each refusal on the form field it concerns, renamed where the form names it otherwise', async () => {
    const { errors } = await resolve({ username: '', password: 'secret', code: '12x' });
    expect(errors).toEqual({
      username: { type: 'minLength', message: expect.stringMatching(/^Must not have fewer than 1 /) },
      code: { type: 'pattern', message: 'Not in the accepted form.' },
    });
  });
});

describe('showProblemOnFields', () => {
  it('sets the daemon’s errors on the form’s own fields only', () => {
    const setError = vi.fn();
    const error = new ApiError(
      problem('validation_failed', 'Invalid body', [
        { location: 'body.username', message: 'is taken' },
        { location: 'body.email', message: 'is not an email' },
      ]),
    );
    showProblemOnFields<LoginForm>(error, ['username', 'password'], setError);
    expect(setError.mock.calls).toEqual([['username', { type: 'server', message: 'is taken' }]]);
  });
});
