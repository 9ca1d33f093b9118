import { useQuery } from '@tanstack/react-query';
import { Link, useNavigate, useSearch } from '@tanstack/react-router';
import type { Overview, OverviewKey } from '@gatehouse/shared';
import { useProject } from '../../app/project.js';
import { ErrorNote, formatTime, Loading } from '../../ui/components.js';
import { ActivityPanel, localMinute } from './ActivityPanel.js';
import { overviewQueries } from './queries.js';

/** The project at a glance: its agents, the keys that need attention, its activity and who is refused most. */
export function OverviewPage(): React.JSX.Element {
  const project = useProject();
  const { period = 'day' } = useSearch({ from: '/_project/overview' });
  const navigate = useNavigate({ from: '/overview' });
  const overview = useQuery(overviewQueries.summary(project.id));
  if (overview.isPending) return <Loading />;
  if (overview.isError) return <ErrorNote error={overview.error} />;
  const o = overview.data;
  return (
    <section className="overview">
      <div className="toolbar">
        <h1>Overview</h1>
        <span className="muted">{project.name}</span>
        <span className="spacer" />
        <span className="muted small">As of {formatTime(o.generated_at)}</span>
      </div>
      <AgentFigures agents={o.agents} />
      <ActivityPanel
        activity={o.activity}
        window={period}
        onWindow={(next) =>
          void navigate({ search: (prev) => ({ ...prev, period: next === 'day' ? undefined : next }) })
        }
      />
      <div className="columns">
        <KeyList
          title={`Keys expiring within ${o.keys.expiring_within_days} days`}
          list={o.keys.expiring_soon}
          empty="No key expires that soon."
          when={(key) => `expires ${formatTime(key.expires_at!)}`}
        />
        <KeyList
          title="Keys never used"
          list={o.keys.never_used}
          empty="Every key has been used."
          when={(key) => `issued ${formatTime(key.created_at)}`}
        />
        <MostRefused refused={o.most_refused} since={o.activity.week.since} />
      </div>
    </section>
  );
}

function AgentFigures({ agents }: { agents: Overview['agents'] }) {
  return (
    <dl className="figures agent-figures" aria-label="Agents">
      <div className="figure">
        <dt>Active agents</dt>
        <dd>
          <Link to="/agents" search={{ status: 'active' }} aria-label={`Active agents: ${agents.active}`}>
            {agents.active}
          </Link>
        </dd>
      </div>
      <div className="figure">
        <dt>Suspended</dt>
        <dd>
          <Link to="/agents" search={{ status: 'suspended' }} aria-label={`Suspended agents: ${agents.suspended}`}>
            {agents.suspended}
          </Link>
        </dd>
      </div>
      <div className="figure">
        <dt>Revoked</dt>
        <dd>
          <Link to="/agents" search={{ status: 'revoked' }} aria-label={`Revoked agents: ${agents.revoked}`}>
            {agents.revoked}
          </Link>
        </dd>
      </div>
      <div className="figure">
        <dt>All agents</dt>
        <dd>
          <Link to="/agents" aria-label={`All agents: ${agents.total}`}>
            {agents.total}
          </Link>
        </dd>
      </div>
    </dl>
  );
}

/** A count of keys and the first of them, each a link to its agent's keys. */
function KeyList(props: {
  title: string;
  list: Overview['keys']['never_used'];
  empty: string;
  when: (key: OverviewKey) => string;
}) {
  const { title, list } = props;
  const more = list.total - list.items.length;
  return (
    <div className="panel">
      <h2>
        {title}: <span className="count">{list.total}</span>
      </h2>
      {list.items.length === 0 ? (
        <p className="empty">{props.empty}</p>
      ) : (
        <ul className="plain">
          {list.items.map((key) => (
            <li key={key.id}>
              <Link to="/agents/$name" params={{ name: key.agent }} search={{ tab: 'Keys' }}>
                {key.agent}
              </Link>{' '}
              <code>…{key.last_four}</code>
              {key.label && <span className="muted"> {key.label}</span>}
              <span className="muted small"> {props.when(key)}</span>
            </li>
          ))}
        </ul>
      )}
      {more > 0 && <p className="muted small">and {more} more</p>}
    </div>
  );
}

function MostRefused({ refused, since }: { refused: Overview['most_refused']; since: string }) {
  return (
    <div className="panel">
      <h2>Most refused agents, last 7 days</h2>
      {refused.length === 0 ? (
        <p className="empty">No agent was refused.</p>
      ) : (
        <ol className="plain">
          {refused.map((row) => (
            <li key={row.agent_id}>
              <Link to="/agents/$name" params={{ name: row.agent }} search={{ tab: 'Activity' }}>
                {row.agent}
              </Link>{' '}
              <Link
                to="/audit"
                search={{ agent: row.agent, outcome: 'failure', after: localMinute(since) }}
                aria-label={`${row.agent}: ${row.denials} denials`}
              >
                {row.denials} denials
              </Link>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
