import { useQuery } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { CreateRoleRequest } from '@gatehouse/shared';
import { call } from '../../api.js';
import { ConfirmButton, ErrorNote, FieldError, Loading } from '../../ui/components.js';
import { contractResolver, showProblemOnFields } from '../../ui/forms.js';
import { useRegistryChange } from './mutations.js';
import { roleQueries, toolQueries } from './queries.js';

interface RoleForm {
  name: string;
  tools: string[];
}
const FIELDS = ['name', 'tools'] as const;

/** Capability roles: named bundles of registered tools, assigned to agents. */
export function CapabilityRoles(): React.JSX.Element {
  const tools = useQuery(toolQueries.list());
  const roles = useQuery(roleQueries.list());
  const remove = useRegistryChange((role: string) => call('deleteRole', { params: { role } }));
  const create = useRegistryChange((body: CreateRoleRequest) => call('createRole', { body }));
  const form = useForm<RoleForm, unknown, CreateRoleRequest>({
    defaultValues: { name: '', tools: [] },
    // The checked boxes' names (react-hook-form gives `false` for a lone unchecked box).
    resolver: contractResolver(CreateRoleRequest, ({ name, tools }: RoleForm) => ({
      name,
      tools: ([] as unknown[]).concat(tools).filter((tool): tool is string => typeof tool === 'string'),
    })),
  });
  const onSubmit = form.handleSubmit((body) =>
    create.mutate(body, {
      onSuccess: () => form.reset(),
      onError: (error) => showProblemOnFields(error, FIELDS, form.setError),
    }),
  );
  const { errors } = form.formState;
  return (
    <>
      <h1 className="section">Capability roles</h1>
      <ErrorNote error={remove.error} />
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
                  <ConfirmButton
                    title={`Delete role ${role.name}?`}
                    description="Every agent holding this role loses the tools it gave, and its tokens end."
                    confirm="Delete role"
                    onConfirm={() => remove.mutate(role.name)}
                  >
                    Delete
                  </ConfirmButton>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="form" onSubmit={(event) => void onSubmit(event)} noValidate aria-label="Create a role">
        <label>
          Role name
          <input {...form.register('name')} placeholder="code-executor" aria-invalid={!!errors.name} />
        </label>
        <FieldError error={errors.name} />
        <fieldset>
          <legend>Tools of the role</legend>
          {tools.data?.map((tool) => (
            <label key={tool.name} className="check">
              <input type="checkbox" value={tool.name} {...form.register('tools')} /> {tool.name}
            </label>
          ))}
        </fieldset>
        <FieldError error={errors.tools} />
        <ErrorNote error={create.error} fields={FIELDS} />
        <div className="actions">
          <button disabled={!form.watch('name') || create.isPending}>Create role</button>
        </div>
      </form>
    </>
  );
}
