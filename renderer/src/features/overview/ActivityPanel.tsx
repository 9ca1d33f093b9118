import * as Tabs from '@radix-ui/react-tabs';
import { Link } from '@tanstack/react-router';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import {
  ACTIVITY_EVENT_TYPES,
  type Activity,
  type ActivityMeasure,
  type ActivityWindow,
  type AuditOutcome,
} from '@gatehouse/shared';

export const ACTIVITY_WINDOWS = ['day', 'week'] as const;
export type ActivityWindowName = (typeof ACTIVITY_WINDOWS)[number];
const WINDOW_LABELS: Record<ActivityWindowName, string> = { day: 'Last 24 hours', week: 'Last 7 days' };

/** Each measure, and the audit filter that lists exactly the events it counts. */
export const MEASURES: ReadonlyArray<{
  key: ActivityMeasure;
  label: string;
  audit: { event_type?: string; outcome?: AuditOutcome };
}> = [
  { key: 'requests', label: 'Requests', audit: { event_type: ACTIVITY_EVENT_TYPES.requests } },
  { key: 'denials', label: 'Denials', audit: { outcome: 'failure' } },
  { key: 'tool_calls', label: 'Tool calls', audit: { event_type: ACTIVITY_EVENT_TYPES.tool_calls } },
  { key: 'approvals', label: 'Approvals asked', audit: { event_type: ACTIVITY_EVENT_TYPES.approvals } },
];

/**
 * The audit page's `after` is a `datetime-local` value (the viewer's clock, to the minute); the
 * windows start on the hour, so the minute is exact.
 */
export function localMinute(iso: string): string {
  const at = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

const bucketLabel = (window: ActivityWindowName, start: string) =>
  window === 'day'
    ? new Date(start).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : new Date(start).toLocaleDateString(undefined, { weekday: 'short', day: 'numeric' });

/**
 * Requests, denials, tool calls and approvals over the last day (by the hour) or week (by the
 * day): each total a link to the audit events it counts, and a chart of the buckets. `agent`
 * narrows the links to one agent (its Activity tab).
 */
export function ActivityPanel(props: {
  activity: Activity;
  window: ActivityWindowName;
  onWindow: (window: ActivityWindowName) => void;
  agent?: string;
}): React.JSX.Element {
  return (
    <Tabs.Root
      className="panel activity"
      value={props.window}
      onValueChange={(next) => props.onWindow(next as ActivityWindowName)}
    >
      <div className="toolbar">
        <h2>Activity</h2>
        <span className="spacer" />
        <Tabs.List aria-label="Period" className="tabs">
          {ACTIVITY_WINDOWS.map((w) => (
            <Tabs.Trigger key={w} value={w}>
              {WINDOW_LABELS[w]}
            </Tabs.Trigger>
          ))}
        </Tabs.List>
      </div>
      {ACTIVITY_WINDOWS.map((w) => (
        <Tabs.Content key={w} value={w}>
          <WindowFigures window={props.activity[w]} name={w} agent={props.agent} />
        </Tabs.Content>
      ))}
    </Tabs.Root>
  );
}

function WindowFigures(props: { window: ActivityWindow; name: ActivityWindowName; agent?: string }) {
  const { window, name, agent } = props;
  const after = localMinute(window.since);
  const data = window.buckets.map((bucket) => ({ ...bucket, label: bucketLabel(name, bucket.start) }));
  return (
    <>
      <dl className="figures">
        {MEASURES.map((measure) => (
          <div key={measure.key} className={`figure figure-${measure.key}`}>
            <dt>{measure.label}</dt>
            <dd>
              <Link
                to="/audit"
                search={{ ...measure.audit, agent, after }}
                aria-label={`${measure.label}, ${WINDOW_LABELS[name].toLowerCase()}: ${window.totals[measure.key]}`}
              >
                {window.totals[measure.key]}
              </Link>
            </dd>
          </div>
        ))}
      </dl>
      <figure
        className="chart"
        aria-label={`${WINDOW_LABELS[name]} ${name === 'day' ? 'by the hour' : 'by the day'}: ${MEASURES.map(
          (m) => `${window.totals[m.key]} ${m.label.toLowerCase()}`,
        ).join(', ')}`}
      >
        <ResponsiveContainer width="100%" height={240}>
          <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="var(--line)" vertical={false} />
            <XAxis dataKey="label" stroke="var(--muted)" tick={{ fill: 'var(--muted)', fontSize: 12 }} />
            <YAxis
              allowDecimals={false}
              stroke="var(--muted)"
              tick={{ fill: 'var(--muted)', fontSize: 12 }}
              width={40}
            />
            <Tooltip
              contentStyle={{ background: 'var(--panel)', border: '1px solid var(--line)', color: 'var(--text)' }}
              cursor={{ fill: 'var(--line)', opacity: 0.4 }}
            />
            <Legend wrapperStyle={{ color: 'var(--text)' }} />
            {MEASURES.map((measure) => (
              <Bar
                key={measure.key}
                dataKey={measure.key}
                name={measure.label}
                fill={`var(--chart-${measure.key})`}
                isAnimationActive={false}
              />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </figure>
    </>
  );
}
