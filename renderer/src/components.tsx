import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { AgentStatus } from '@gatehouse/shared';
import { ApiError, keys, page } from './api.js';

/**
 * A modal dialog: focus moves in and stays in (Tab cycles), Escape asks to close, and when it
 * closes focus goes back to what opened it.
 */
export function Dialog(props: { title: string; onClose: () => void; children: ReactNode }): React.JSX.Element {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const dialog = ref.current!;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const focusables = () =>
      [...dialog.querySelectorAll<HTMLElement>('button, input, select, textarea, [tabindex="0"]')].filter(
        (el) => !el.hasAttribute('disabled'),
      );
    focusables()[0]?.focus();
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') props.onClose();
      if (event.key !== 'Tab') return;
      const items = focusables();
      const [first, last] = [items[0], items[items.length - 1]];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last?.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first?.focus();
      }
    };
    dialog.addEventListener('keydown', onKey);
    return () => {
      dialog.removeEventListener('keydown', onKey);
      if (opener?.isConnected) opener.focus();
    };
    // Focus moves in once, when the dialog opens.
  }, []);
  return (
    <div className="backdrop">
      <div className="dialog" role="dialog" aria-modal="true" aria-label={props.title} ref={ref}>
        <h2>{props.title}</h2>
        {props.children}
      </div>
    </div>
  );
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

/** Previous / next over a server-paged list, with where we are in its total. */
export function Pager(props: {
  offset: number;
  pageSize: number;
  total: number;
  onOffset: (offset: number) => void;
}): React.JSX.Element {
  const { offset, pageSize, total, onOffset } = props;
  return (
    <div className="toolbar" aria-label="Paging">
      <span className="muted">
        {offset + 1}–{Math.min(offset + pageSize, total)} of {total}
      </span>
      <button disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - pageSize))}>
        Previous
      </button>
      <button disabled={offset + pageSize >= total} onClick={() => onOffset(offset + pageSize)}>
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
export function useTypedSearch(delayMs = 250): [text: string, setText: (text: string) => void, query: string] {
  const [text, setText] = useState('');
  const [query, setQuery] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setQuery(text.trim()), delayMs);
    return () => clearTimeout(timer);
  }, [text, delayMs]);
  return [text, setText, query];
}

/** An agent as a picker shows it. */
export interface PickedAgent {
  id: string;
  name: string;
  status: AgentStatus;
}

const PICKER_SIZE = 50;

/**
 * Chooses one agent among any number of them (SPEC §8: 10k+ rows): the list holds the first 50
 * the daemon finds for what is typed in the search box beside it, and always the chosen one.
 */
export function AgentPicker(props: {
  projectId: string;
  label: string;
  value: PickedAgent | null;
  onChange: (agent: PickedAgent | null) => void;
  /** The choice of no agent: "None", "Any"… */
  noneLabel: string;
}): React.JSX.Element {
  const { projectId, value } = props;
  const [search, setSearch, q] = useTypedSearch();
  const found = useQuery({
    queryKey: keys.agentList(projectId, { picker: q }),
    queryFn: () => page('listAgents', { projectId, query: { limit: PICKER_SIZE, ...(q ? { q } : {}) } }),
    placeholderData: keepPreviousData,
  });
  const items: PickedAgent[] = found.data?.items ?? [];
  const options = value && !items.some((agent) => agent.id === value.id) ? [value, ...items] : items;
  return (
    <div className="picker">
      <label>
        {props.label}{' '}
        <select
          value={value?.id ?? ''}
          onChange={(event) => props.onChange(options.find((agent) => agent.id === event.target.value) ?? null)}
        >
          <option value="">{props.noneLabel}</option>
          {options.map((agent) => (
            <option key={agent.id} value={agent.id}>
              {agent.name} ({agent.status})
            </option>
          ))}
        </select>
      </label>
      <input
        type="search"
        aria-label={`Search the ${props.label.toLowerCase()} list by name`}
        placeholder="Find by name…"
        value={search}
        onChange={(event) => setSearch(event.target.value)}
      />
      {found.data && found.data.total > items.length && (
        <span className="muted small">
          {items.length} of {found.data.total}: type to narrow
        </span>
      )}
      <ErrorNote error={found.error} />
    </div>
  );
}
