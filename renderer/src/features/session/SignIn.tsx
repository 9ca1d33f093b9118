import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { BridgeResult, Problem, SessionState } from '@gatehouse/shared';
import { sessionKeys } from './queries.js';

function useSessionForm() {
  const client = useQueryClient();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (action: () => Promise<BridgeResult<SessionState>>) => {
    setBusy(true);
    const result = await action();
    setBusy(false);
    if (!result.ok) return setProblem(result.problem);
    setProblem(null);
    client.setQueryData(sessionKeys.all, result.data);
  };
  return { problem, busy, submit };
}

const fieldError = (problem: Problem | null, field: string) =>
  problem?.errors?.find((e) => e.location === `body.${field}`)?.message;

/** First run: the first super_admin (and the default project). */
export function Setup(): React.JSX.Element {
  const { problem, busy, submit } = useSessionForm();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit(() => window.gatehouse.session.setup({ username, password }));
  };
  return (
    <main className="center">
      <form className="card" onSubmit={onSubmit} aria-label="Set up Gatehouse">
        <h1>Welcome to Gatehouse</h1>
        <p className="muted">Create the first administrator. It can manage everything on this machine.</p>
        <label>
          Username
          <input value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="username" required />
        </label>
        {fieldError(problem, 'username') && <span className="field-error">{fieldError(problem, 'username')}</span>}
        <label>
          Password
          <input
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoComplete="new-password"
            required
          />
        </label>
        <span className="muted small">At least 10 characters.</span>
        {fieldError(problem, 'password') && <span className="field-error">{fieldError(problem, 'password')}</span>}
        {problem && !problem.errors && (
          <p className="error" role="alert">
            {problem.detail}
          </p>
        )}
        <button className="primary" disabled={busy}>
          Create admin
        </button>
      </form>
    </main>
  );
}

/** Sign in; a `mfa_required` answer asks for the authenticator code. */
export function Login(): React.JSX.Element {
  const { problem, busy, submit } = useSessionForm();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const needsCode = problem?.code === 'mfa_required' || code !== '';
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void submit(() => window.gatehouse.session.login({ username, password, ...(code ? { totp_code: code } : {}) }));
  };
  return (
    <main className="center">
      <form className="card" onSubmit={onSubmit} aria-label="Sign in">
        <h1>Sign in to Gatehouse</h1>
        <label>
          Username
          <input value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="username" required />
        </label>
        <label>
          Password
          <input
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoComplete="current-password"
            required
          />
        </label>
        {needsCode && (
          <label>
            Authenticator code
            <input
              value={code}
              onChange={(e) => setCode(e.target.value.replace(/\D/g, '').slice(0, 6))}
              inputMode="numeric"
              autoComplete="one-time-code"
              autoFocus
            />
          </label>
        )}
        {problem && problem.code !== 'mfa_required' && (
          <p className="error" role="alert">
            {problem.detail}
          </p>
        )}
        {problem?.code === 'mfa_required' && !code && (
          <p className="muted">Enter the 6-digit code from your authenticator.</p>
        )}
        <button className="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
