import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm, type FieldValues, type Path, type UseFormReturn } from 'react-hook-form';
import { LoginRequest, SetupRequest, type BridgeResult, type Problem, type SessionState } from '@gatehouse/shared';
import { ApiError } from '../../api.js';
import { FieldError } from '../../ui/components.js';
import { contractResolver, showProblemOnFields } from '../../ui/forms.js';
import { sessionKeys } from './queries.js';

/** Sends a session form; the new session replaces the old, a refusal lands on the form's fields. */
function useSessionSubmit<Form extends FieldValues>(form: UseFormReturn<Form, unknown, unknown>, fields: Path<Form>[]) {
  const client = useQueryClient();
  const [problem, setProblem] = useState<Problem | null>(null);
  const submit = async (action: () => Promise<BridgeResult<SessionState>>) => {
    const result = await action();
    if (!result.ok) {
      setProblem(result.problem);
      showProblemOnFields(new ApiError(result.problem), fields, form.setError);
      return;
    }
    setProblem(null);
    client.setQueryData(sessionKeys.all, result.data);
  };
  return { problem, submit };
}

/** First run: the first super_admin (and the default project). */
export function Setup(): React.JSX.Element {
  const form = useForm<SetupRequest>({
    defaultValues: { username: '', password: '' },
    resolver: contractResolver(SetupRequest, (values: SetupRequest) => values),
  });
  const { problem, submit } = useSessionSubmit(form, ['username', 'password']);
  const onSubmit = form.handleSubmit((body) => submit(() => window.gatehouse.session.setup(body)));
  const { errors, isSubmitting } = form.formState;
  return (
    <main className="center">
      <form className="card" onSubmit={(event) => void onSubmit(event)} aria-label="Set up Gatehouse" noValidate>
        <h1>Welcome to Gatehouse</h1>
        <p className="muted">Create the first administrator. It can manage everything on this machine.</p>
        <label>
          Username
          <input {...form.register('username')} autoComplete="username" aria-invalid={!!errors.username} />
        </label>
        <FieldError error={errors.username} />
        <label>
          Password
          <input
            type="password"
            {...form.register('password')}
            autoComplete="new-password"
            aria-invalid={!!errors.password}
          />
        </label>
        <span className="muted small">At least 10 characters.</span>
        <FieldError error={errors.password} />
        {problem && !problem.errors && (
          <p className="error" role="alert">
            {problem.detail}
          </p>
        )}
        <button className="primary" disabled={isSubmitting}>
          Create admin
        </button>
      </form>
    </main>
  );
}

interface LoginForm {
  username: string;
  password: string;
  /** Empty until the daemon asks for it. */
  code: string;
}

const toLogin = ({ username, password, code }: LoginForm): LoginRequest => ({
  username,
  password,
  ...(code ? { totp_code: code } : {}),
});

/** Sign in; a `mfa_required` answer asks for the authenticator code. */
export function Login(): React.JSX.Element {
  const form = useForm<LoginForm, unknown, LoginRequest>({
    defaultValues: { username: '', password: '', code: '' },
    // The body's `totp_code` is the form's `code`.
    resolver: contractResolver(LoginRequest, toLogin, { totp_code: 'code' }),
  });
  const { problem, submit } = useSessionSubmit(form, ['username', 'password']);
  const onSubmit = form.handleSubmit((body) => submit(() => window.gatehouse.session.login(body)));
  const { errors, isSubmitting } = form.formState;
  const code = form.watch('code');
  const needsCode = problem?.code === 'mfa_required' || code !== '';
  return (
    <main className="center">
      <form className="card" onSubmit={(event) => void onSubmit(event)} aria-label="Sign in" noValidate>
        <h1>Sign in to Gatehouse</h1>
        <label>
          Username
          <input {...form.register('username')} autoComplete="username" aria-invalid={!!errors.username} />
        </label>
        <FieldError error={errors.username} />
        <label>
          Password
          <input
            type="password"
            {...form.register('password')}
            autoComplete="current-password"
            aria-invalid={!!errors.password}
          />
        </label>
        <FieldError error={errors.password} />
        {needsCode && (
          <label>
            Authenticator code
            <input
              {...form.register('code')}
              inputMode="numeric"
              maxLength={6}
              autoComplete="one-time-code"
              autoFocus
              aria-invalid={!!errors.code}
            />
          </label>
        )}
        <FieldError error={errors.code} />
        {problem && problem.code !== 'mfa_required' && (
          <p className="error" role="alert">
            {problem.detail}
          </p>
        )}
        {problem?.code === 'mfa_required' && !code && (
          <p className="muted">Enter the 6-digit code from your authenticator.</p>
        )}
        <button className="primary" disabled={isSubmitting}>
          Sign in
        </button>
      </form>
    </main>
  );
}
