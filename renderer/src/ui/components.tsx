import * as AlertDialog from '@radix-ui/react-alert-dialog';
import * as RadixDialog from '@radix-ui/react-dialog';
import { useEffect, useState, type ReactNode } from 'react';
import { ApiError } from '../api.js';

/**
 * A modal dialog (Radix): focus moves in and stays in, Escape asks to close, and when it closes
 * focus goes back to what opened it. A click outside does nothing: a half-filled form is not lost
 * to a stray click.
 */
export function Dialog(props: { title: string; onClose: () => void; children: ReactNode }): React.JSX.Element {
  // Radix gives focus back to its own Trigger; these dialogs are opened by ordinary buttons.
  const [opener] = useState(() => (document.activeElement instanceof HTMLElement ? document.activeElement : null));
  return (
    <RadixDialog.Root open onOpenChange={(open) => !open && props.onClose()}>
      <RadixDialog.Portal>
        <RadixDialog.Overlay className="backdrop" />
        <RadixDialog.Content
          className="dialog"
          aria-describedby={undefined}
          onInteractOutside={(event) => event.preventDefault()}
          onCloseAutoFocus={(event) => {
            event.preventDefault();
            if (opener?.isConnected) opener.focus();
          }}
        >
          <RadixDialog.Title>{props.title}</RadixDialog.Title>
          {props.children}
        </RadixDialog.Content>
      </RadixDialog.Portal>
    </RadixDialog.Root>
  );
}

/**
 * A button whose action cannot be undone: it first asks, in an alert dialog that says what will
 * happen, and acts only on the explicit confirm button (Escape or Cancel leave everything as it was).
 */
export function ConfirmButton(props: {
  /** The question, e.g. "Revoke researcher for good?" */
  title: string;
  /** What will happen, in full. */
  description: string;
  /** The confirm button's words: the action itself ("Revoke for good"), never "OK". */
  confirm: string;
  onConfirm: () => void;
  disabled?: boolean;
  className?: string;
  children: ReactNode;
}): React.JSX.Element {
  return (
    <AlertDialog.Root>
      <AlertDialog.Trigger asChild>
        <button type="button" className={props.className} disabled={props.disabled}>
          {props.children}
        </button>
      </AlertDialog.Trigger>
      <AlertDialog.Portal>
        <AlertDialog.Overlay className="backdrop" />
        <AlertDialog.Content className="dialog">
          <AlertDialog.Title>{props.title}</AlertDialog.Title>
          <AlertDialog.Description>{props.description}</AlertDialog.Description>
          <div className="actions">
            <AlertDialog.Cancel asChild>
              <button type="button">Cancel</button>
            </AlertDialog.Cancel>
            <AlertDialog.Action asChild>
              <button type="button" className="danger" onClick={props.onConfirm}>
                {props.confirm}
              </button>
            </AlertDialog.Action>
          </div>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}

/** A form field's message, from the client-side check or the daemon's answer. */
export function FieldError({ error }: { error: { message?: string } | undefined }): React.JSX.Element | null {
  return error?.message ? <span className="field-error">{error.message}</span> : null;
}

const CLIPBOARD_CLEAR_MS = 60_000;
let clipboardClear: ReturnType<typeof setTimeout> | undefined;

/**
 * Copies a secret and clears the clipboard 60 s later. The timer belongs to the page, not to the
 * dialog: people copy, then close the dialog at once, and the secret must not stay behind.
 */
async function copySecret(secret: string): Promise<void> {
  await navigator.clipboard.writeText(secret);
  clearTimeout(clipboardClear);
  clipboardClear = setTimeout(() => void navigator.clipboard.writeText('').catch(() => undefined), CLIPBOARD_CLEAR_MS);
}

/**
 * A secret shown once (SPEC §8): copy it, see which keychain entry keeps it; the clipboard is
 * cleared after 60 s, and closing asks whether it was saved — it is never shown again.
 */
export function PlaintextOnceDialog(props: {
  title: string;
  secret: string;
  keychain: { service: string; account: string } | null;
  /** What else to know about this secret (where it came from). */
  note?: string;
  onClose: () => void;
}): React.JSX.Element {
  const [copied, setCopied] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const copy = async () => {
    await copySecret(props.secret);
    setCopied(true);
  };
  return (
    <Dialog title={props.title} onClose={() => setConfirming(true)}>
      <p>Copy it now: it is not shown again here.</p>
      <code className="secret" data-testid="plaintext-secret">
        {props.secret}
      </code>
      <p className="muted">
        {props.keychain
          ? `Saved in the OS keychain: service “${props.keychain.service}”, account “${props.keychain.account}”.`
          : 'Not saved in the keychain.'}
      </p>
      {props.note && <p data-testid="plaintext-note">{props.note}</p>}
      {copied && <p className="muted">Copied. The clipboard is cleared in 60 seconds.</p>}
      {confirming ? (
        <div className="actions" role="group" aria-label="Did you save it?">
          <span>Did you save it? It will not be shown again.</span>
          <button type="button" onClick={() => setConfirming(false)}>
            No, go back
          </button>
          <button type="button" className="primary" onClick={props.onClose}>
            Yes, close
          </button>
        </div>
      ) : (
        <div className="actions">
          <button type="button" onClick={() => void copy()}>
            Copy
          </button>
          <button type="button" className="primary" onClick={() => setConfirming(true)}>
            Done
          </button>
        </div>
      )}
    </Dialog>
  );
}

/**
 * An error, said plainly. In a form, `fields` are the fields with a message slot of their own:
 * their errors are shown there, and any other field's here (a field without a slot, or one the
 * form does not have), so that no refusal goes unexplained.
 */
export function ErrorNote({ error, fields }: { error: unknown; fields?: readonly string[] }): React.JSX.Element | null {
  if (!error) return null;
  if (!(error instanceof ApiError)) {
    return (
      <p className="error" role="alert">
        {String(error)}
      </p>
    );
  }
  const others = error.otherErrors(fields ?? []);
  if (error.problem.errors?.length && others.length === 0) return null;
  return (
    <div className="error" role="alert">
      <p>{error.problem.detail}</p>
      {others.length > 0 && (
        <ul>
          {others.map((e) => (
            <li key={e.location}>
              {e.location.replace(/^body\./, '')}: {e.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export const Loading = () => (
  <p className="muted" role="status">
    Loading…
  </p>
);

export function StatusBadge({ status }: { status: string }): React.JSX.Element {
  return <span className={`badge badge-${status}`}>{status}</span>;
}

export const formatTime = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

/**
 * Previous / next over a server-paged list, with where we are in its total. Where the list gave
 * the page's `next` cursor, Next goes by it (as fast on the millionth row as on the first, and
 * holding still while rows arrive before it); Previous goes back by offset.
 */
export function Pager(props: {
  offset: number;
  pageSize: number;
  total: number;
  next?: string | null;
  onPage: (offset: number, cursor: string | undefined) => void;
}): React.JSX.Element {
  const { offset, pageSize, total, next, onPage } = props;
  return (
    <div className="toolbar" aria-label="Paging">
      <span className="muted">
        {offset + 1}–{Math.min(offset + pageSize, total)} of {total}
      </span>
      <button disabled={offset === 0} onClick={() => onPage(Math.max(0, offset - pageSize), undefined)}>
        Previous
      </button>
      <button disabled={offset + pageSize >= total} onClick={() => onPage(offset + pageSize, next ?? undefined)}>
        Next
      </button>
    </div>
  );
}

/** A dialog form's buttons: Cancel, and the submit button doing the work. */
export function FormActions(props: { submit: string; busy: boolean; onCancel: () => void }): React.JSX.Element {
  return (
    <div className="actions">
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
      <button className="primary" disabled={props.busy}>
        {props.submit}
      </button>
    </div>
  );
}

/** What is typed in a search box, once the typing pauses: one request per word, not per key. */
export function useTypedSearch(
  initial = '',
  delayMs = 250,
): [text: string, setText: (text: string) => void, query: string] {
  const [text, setText] = useState(initial);
  const [query, setQuery] = useState(initial);
  useEffect(() => {
    const timer = setTimeout(() => setQuery(text.trim()), delayMs);
    return () => clearTimeout(timer);
  }, [text, delayMs]);
  return [text, setText, query];
}
