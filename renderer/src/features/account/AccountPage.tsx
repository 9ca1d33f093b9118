import { useMutation, useQueryClient } from '@tanstack/react-query';
import QRCode from 'qrcode';
import { useEffect, useState, type FormEvent } from 'react';
import { useForm } from 'react-hook-form';
import { PasswordChangeRequest, type MfaSetupResponse, type SessionState, type User } from '@gatehouse/shared';
import { call } from '../../api.js';
import { useSignedInUser } from '../../app/Root.js';
import { ErrorNote, FieldError } from '../../ui/components.js';
import { contractResolver, showProblemOnFields } from '../../ui/forms.js';
import { sessionKeys } from '../session/queries.js';

/** The signed-in user's own security: two-factor enrolment (QR of the otpauth URI) and password. */
export function AccountPage(): React.JSX.Element {
  const user = useSignedInUser();
  return (
    <section className="form">
      <h1>Your account</h1>
      <p className="muted">
        Signed in as <strong>{user.username}</strong> ({user.role}).
      </p>
      <TwoFactor user={user} />
      <PasswordChange />
    </section>
  );
}

function TwoFactor({ user }: { user: User }): React.JSX.Element {
  const client = useQueryClient();
  const [enrolment, setEnrolment] = useState<MfaSetupResponse | null>(null);
  const [qr, setQr] = useState<string | null>(null);
  const [code, setCode] = useState('');
  useEffect(() => {
    if (enrolment) void QRCode.toDataURL(enrolment.otpauth_uri, { margin: 1, width: 200 }).then(setQr);
  }, [enrolment]);
  // The session's user carries mfa_enabled: refresh it after a change.
  const refreshUser = (mfa_enabled: boolean) => {
    const next: SessionState = { status: 'signed_in', user: { ...user, mfa_enabled } };
    client.setQueryData(sessionKeys.all, next);
  };
  const start = useMutation({ mutationFn: () => call('mfaSetup', {}), onSuccess: setEnrolment });
  const confirm = useMutation({
    mutationFn: () => call('mfaVerify', { body: { code } }),
    onSuccess: () => {
      setEnrolment(null);
      setCode('');
      refreshUser(true);
    },
  });
  const disable = useMutation({
    mutationFn: () => call('mfaDisable', { body: { code } }),
    onSuccess: () => {
      setCode('');
      refreshUser(false);
    },
  });
  const codeField = (
    <label>
      Code from your authenticator
      <input
        value={code}
        onChange={(e) => setCode(e.target.value.replace(/\D/g, '').slice(0, 6))}
        inputMode="numeric"
        autoComplete="one-time-code"
      />
    </label>
  );
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (user.mfa_enabled) disable.mutate();
    else confirm.mutate();
  };
  return (
    <form className="form" onSubmit={onSubmit} aria-label="Two-factor authentication">
      <h2>Two-factor authentication</h2>
      {user.mfa_enabled ? (
        <>
          <p>
            <span className="badge badge-active">on</span> Signing in asks for a code from your authenticator.
          </p>
          {codeField}
          <ErrorNote error={disable.error} />
          <div className="actions">
            <button disabled={code.length !== 6 || disable.isPending}>Turn off</button>
          </div>
        </>
      ) : enrolment ? (
        <>
          <p>Scan this with your authenticator app, then enter the code it shows.</p>
          {qr && <img src={qr} alt="QR code of the authenticator secret" width={200} height={200} />}
          <p className="muted small">
            Or enter the secret by hand: <code data-testid="mfa-secret">{enrolment.secret}</code>
          </p>
          {codeField}
          <ErrorNote error={confirm.error} />
          <div className="actions">
            <button className="primary" disabled={code.length !== 6 || confirm.isPending}>
              Confirm
            </button>
          </div>
        </>
      ) : (
        <>
          <p className="muted">Off. Add a code from an authenticator app to every sign-in.</p>
          <ErrorNote error={start.error} />
          <div className="actions">
            <button type="button" className="primary" onClick={() => start.mutate()} disabled={start.isPending}>
              Set up
            </button>
          </div>
        </>
      )}
    </form>
  );
}

const PASSWORD_FIELDS = ['current_password', 'new_password'] as const;

function PasswordChange(): React.JSX.Element {
  const form = useForm<PasswordChangeRequest>({
    defaultValues: { current_password: '', new_password: '' },
    resolver: contractResolver(PasswordChangeRequest, (values: PasswordChangeRequest) => values),
  });
  const change = useMutation({ mutationFn: (body: PasswordChangeRequest) => call('changePassword', { body }) });
  const onSubmit = form.handleSubmit((body) =>
    change.mutate(body, {
      onSuccess: () => form.reset(),
      onError: (error) => showProblemOnFields(error, PASSWORD_FIELDS, form.setError),
    }),
  );
  const { errors } = form.formState;
  const [current, next] = form.watch(PASSWORD_FIELDS);
  return (
    <form className="form" onSubmit={(event) => void onSubmit(event)} aria-label="Change password" noValidate>
      <h2>Password</h2>
      <label>
        Current password
        <input
          type="password"
          {...form.register('current_password')}
          autoComplete="current-password"
          aria-invalid={!!errors.current_password}
        />
      </label>
      <FieldError error={errors.current_password} />
      <label>
        New password
        <input
          type="password"
          {...form.register('new_password')}
          autoComplete="new-password"
          aria-invalid={!!errors.new_password}
        />
      </label>
      <FieldError error={errors.new_password} />
      <ErrorNote error={change.error} fields={PASSWORD_FIELDS} />
      {change.isSuccess && <p role="status">Password changed.</p>}
      <div className="actions">
        <button disabled={!current || !next || change.isPending}>Change password</button>
      </div>
    </form>
  );
}
