import { useNavigate } from '@tanstack/react-router';
import type { Agent } from '@gatehouse/shared';
import { call } from '../../api.js';
import { ConfirmButton, ErrorNote } from '../../ui/components.js';
import { useAgentMutation } from './mutations.js';

/** Suspend or resume; revoke for good; delete. The last two ask first: neither can be undone. */
export function AgentStatusActions({ projectId, agent }: { projectId: string; agent: Agent }): React.JSX.Element {
  const params = { name: agent.name };
  const suspend = useAgentMutation(projectId, () => call('suspendAgent', { projectId, params }));
  const resume = useAgentMutation(projectId, () => call('resumeAgent', { projectId, params }));
  const revoke = useAgentMutation(projectId, () => call('revokeAgent', { projectId, params }));
  const navigate = useNavigate();
  const remove = useAgentMutation(projectId, async () => {
    await call('deleteAgent', { projectId, params });
    await navigate({ to: '/agents' });
  });
  const error = suspend.error ?? resume.error ?? revoke.error ?? remove.error;
  return (
    <>
      <ErrorNote error={error} />
      {agent.status === 'revoked' ? (
        <span className="muted">Revoked for good</span>
      ) : agent.status === 'active' ? (
        <button onClick={() => suspend.mutate()} disabled={suspend.isPending}>
          Suspend
        </button>
      ) : (
        <button onClick={() => resume.mutate()} disabled={resume.isPending}>
          Resume
        </button>
      )}
      {agent.status !== 'revoked' && (
        <ConfirmButton
          className="danger"
          disabled={revoke.isPending}
          title={`Revoke ${agent.name} for good?`}
          description="Its keys and tokens stop working at once, and it can never be resumed."
          confirm="Revoke for good"
          onConfirm={() => revoke.mutate()}
        >
          Revoke for good
        </ConfirmButton>
      )}
      <ConfirmButton
        className="danger"
        disabled={remove.isPending}
        title={`Delete ${agent.name}?`}
        description="The agent, its keys and its keychain entries are deleted. Its audit history stays."
        confirm="Delete agent"
        onConfirm={() => remove.mutate()}
      >
        Delete
      </ConfirmButton>
    </>
  );
}
