/** An OAuth client in a table: its name (a client may register without one) over its id. */
export function ClientCell({ client }: { client: { client_id: string; client_name?: string | null } }) {
  return (
    <td>
      {client.client_name ?? '—'}
      <div className="muted small">
        <code>{client.client_id}</code>
      </div>
    </td>
  );
}
