// @vitest-environment jsdom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeBridge, problem } from '../../testing/console.js';
import { Login } from './SignIn.js';

function renderWithClient(ui: ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>);
}

afterEach(cleanup);

describe('Login', () => {
  it('asks for the authenticator code when the daemon says mfa_required, and sends it', async () => {
    const bridge = fakeBridge({});
    bridge.session.login
      .mockResolvedValueOnce({ ok: false, problem: problem('mfa_required', 'send totp_code') })
      .mockResolvedValueOnce({ ok: true, data: { status: 'signed_out' } });
    renderWithClient(<Login />);
    fireEvent.change(screen.getByLabelText('Username'), { target: { value: 'admin' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'correct horse' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    const code = await screen.findByLabelText('Authenticator code');
    fireEvent.change(code, { target: { value: '123456' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() =>
      expect(bridge.session.login).toHaveBeenLastCalledWith({
        username: 'admin',
        password: 'correct horse',
        totp_code: '123456',
      }),
    );
  });

  it('shows why a sign-in was refused', async () => {
    const bridge = fakeBridge({});
    bridge.session.login.mockResolvedValue({
      ok: false,
      problem: problem('unauthorized', 'Wrong username or password.'),
    });
    renderWithClient(<Login />);
    fireEvent.change(screen.getByLabelText('Username'), { target: { value: 'admin' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'nope nope nope' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Wrong username or password.');
  });
});
