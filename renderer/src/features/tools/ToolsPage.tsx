import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { agentKeys } from '../agents/queries.js';
import { ApiError, call } from '../../api.js';
import { ConfirmButton, ErrorNote, Loading } from '../../ui/components.js';
import { roleKeys, roleQueries, toolKeys, toolQueries } from './queries.js';

/**
 * The tool registry (the server's ceiling: an agent may only ever use registered tools) and the
 * capability roles that bundle tools. Changes reach every agent concerned and end their tokens.
 */
export function ToolsPage(): React.JSX.Element {
  const client = useQueryClient();
  const tools = useQuery(toolQueries.list());
  const roles = useQuery(roleQueries.list());
  const [toolName, setToolName] = useState('');
  const [toolDescription, setToolDescription] = useState('');
  const [roleName, setRoleName] = useState('');
  const [roleTools, setRoleTools] = useState<string[]>([]);
  // A tool's removal also leaves the roles bundling it; agents' effective tools change with either.
  const done = () =>
    Promise.all([
      client.invalidateQueries({ queryKey: toolKeys.all }),
      client.invalidateQueries({ queryKey: roleKeys.all }),
      client.invalidateQueries({ queryKey: agentKeys.all }),
    ]);
  const change = useMutation({ mutationFn: (run: () => Promise<unknown>) => run(), onSuccess: done });
  const error = change.error instanceof ApiError ? change.error : null;

  const addTool = (event: FormEvent) => {
    event.preventDefault();
    change.mutate(
      () =>
        call('createTool', { body: { name: toolName, ...(toolDescription ? { description: toolDescription } : {}) } }),
      {
        onSuccess: () => {
          setToolName('');
          setToolDescription('');
        },
      },
    );
  };
  const addRole = (event: FormEvent) => {
    event.preventDefault();
    change.mutate(() => call('createRole', { body: { name: roleName, tools: roleTools } }), {
      onSuccess: () => {
        setRoleName('');
        setRoleTools([]);
      },
    });
  };
  return (
    <section>
      <h1>Tools</h1>
      <p className="muted">An agent can use only registered tools, whatever it was granted.</p>
      <ErrorNote error={error} />
      {tools.isPending ? (
        <Loading />
      ) : tools.isError ? (
        <ErrorNote error={tools.error} />
      ) : tools.data.length === 0 ? (
        <p className="empty">No tools registered: agents can use none.</p>
      ) : (
        <table aria-label="Tools">
          <tbody>
            {tools.data.map((tool) => (
              <tr key={tool.name}>
                <td>
                  <code>{tool.name}</code>
                </td>
                <td>{tool.description ?? '—'}</td>
                <td>
                  <ConfirmButton
                    title={`Remove ${tool.name} from the registry?`}
                    description="Every agent loses this tool at once, whatever it was granted, and its tokens end."
                    confirm="Remove tool"
                    onConfirm={() => change.mutate(() => call('deleteTool', { params: { name: tool.name } }))}
                  >
                    Remove
                  </ConfirmButton>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="toolbar" onSubmit={addTool}>
        <label>
          Tool <input value={toolName} onChange={(e) => setToolName(e.target.value)} placeholder="web_search" />
        </label>
        <label>
          Description <input value={toolDescription} onChange={(e) => setToolDescription(e.target.value)} />
        </label>
        <button disabled={!toolName || change.isPending}>Register tool</button>
      </form>

      <h1 className="section">Capability roles</h1>
      {roles.isPending ? (
        <Loading />
      ) : roles.isError ? (
        <ErrorNote error={roles.error} />
      ) : roles.data.length === 0 ? (
        <p className="empty">No roles yet.</p>
      ) : (
        <table aria-label="Roles">
          <tbody>
            {roles.data.map((role) => (
              <tr key={role.name}>
                <td>
                  <strong>{role.name}</strong>
                </td>
                <td>{role.tools.join(', ') || 'no tools'}</td>
                <td>
                  <button onClick={() => change.mutate(() => call('deleteRole', { params: { role: role.name } }))}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="form" onSubmit={addRole}>
        <label>
          Role name
          <input value={roleName} onChange={(e) => setRoleName(e.target.value)} placeholder="code-executor" />
        </label>
        <fieldset>
          <legend>Tools of the role</legend>
          {tools.data?.map((tool) => (
            <label key={tool.name} className="check">
              <input
                type="checkbox"
                checked={roleTools.includes(tool.name)}
                onChange={(e) =>
                  setRoleTools(e.target.checked ? [...roleTools, tool.name] : roleTools.filter((t) => t !== tool.name))
                }
              />{' '}
              {tool.name}
            </label>
          ))}
        </fieldset>
        <div className="actions">
          <button disabled={!roleName || change.isPending}>Create role</button>
        </div>
      </form>
    </section>
  );
}
