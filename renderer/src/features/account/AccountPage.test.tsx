// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeBridge, problem, renderConsole } from '../../testing/console.js';

afterEach(cleanup);

describe('AccountPage', () => {
  it('enrols two-factor from the secret and confirms it with a code', async () => {
    const bridge = fakeBridge({
      mfaSetup: () => ({ ok: true, data: { secret: 'JBSWY3DPEHPK3PXP', otpauth_uri: 'otpauth://totp/x?secret=J' } }),
      mfaVerify: () => ({ ok: true, data: null }),
    });
    renderConsole('/account', bridge);
    const twoFactor = await screen.findByRole('form', { name: 'Two-factor authentication' });
    fireEvent.click(within(twoFactor).getByRole('button', { name: 'Set up' }));
    expect((await screen.findByTestId('mfa-secret')).textContent).toBe('JBSWY3DPEHPK3PXP');
    fireEvent.change(within(twoFactor).getByLabelText('Code from your authenticator'), { target: { value: '123456' } });
    fireEvent.click(within(twoFactor).getByRole('button', { name: 'Confirm' }));
    expect(await within(twoFactor).findByText(/Signing in asks for a code/)).toBeTruthy();
    expect(bridge.api).toHaveBeenCalledWith('mfaVerify', { body: { code: '123456' } });
  });

  it('changes the password: a short one refused on the client, a wrong current one by the daemon', async () => {
    const bridge = fakeBridge({
      changePassword: ({ body }) =>
        body.current_password === 'right password'
          ? { ok: true, data: null }
          : {
              ok: false,
              problem: problem('validation_failed', 'Refused.', [
                { location: 'body.current_password', message: 'is not your password' },
              ]),
            },
    });
    renderConsole('/account', bridge);
    const form = await screen.findByRole('form', { name: 'Change password' });
    const current = within(form).getByLabelText('Current password');
    const next = within(form).getByLabelText('New password');
    fireEvent.change(current, { target: { value: 'wrong password' } });
    fireEvent.change(next, { target: { value: 'short' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Change password' }));
    expect(await within(form).findByText(/10 characters/)).toBeTruthy();
    expect(bridge.api.mock.calls.some(([route]) => route === 'changePassword')).toBe(false);

    fireEvent.change(next, { target: { value: 'a much longer password' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Change password' }));
    expect(await within(form).findByText('is not your password')).toBeTruthy();
    expect(current.getAttribute('aria-invalid')).toBe('true');

    fireEvent.change(current, { target: { value: 'right password' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Change password' }));
    expect(await within(form).findByText('Password changed.')).toBeTruthy();
    await waitFor(() => expect((current as HTMLInputElement).value).toBe(''));
  });
});
