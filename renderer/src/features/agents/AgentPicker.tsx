import { useQuery } from '@tanstack/react-query';
import type { AgentStatus } from '@gatehouse/shared';
import { ErrorNote, useTypedSearch } from '../../ui/components.js';
import { agentQueries } from './queries.js';

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
  const found = useQuery(agentQueries.list(projectId, { q, limit: PICKER_SIZE }));
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
