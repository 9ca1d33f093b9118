import { useQuery } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { CreateToolRequest } from '@gatehouse/shared';
import { call } from '../../api.js';
import { ConfirmButton, ErrorNote, FieldError, Loading } from '../../ui/components.js';
import { contractResolver, showProblemOnFields } from '../../ui/forms.js';
import { useRegistryChange } from './mutations.js';
import { toolQueries } from './queries.js';

interface ToolForm {
  name: string;
  description: string;
}
const FIELDS = ['name', 'description'] as const;
const toBody = ({ name, description }: ToolForm): CreateToolRequest => ({
  name,
  ...(description ? { description } : {}),
});

/** The tool registry: the server's ceiling (an agent may only ever use registered tools). */
export function ToolRegistry(): React.JSX.Element {
  const tools = useQuery(toolQueries.list());
  const remove = useRegistryChange((name: string) => call('deleteTool', { params: { name } }));
  const create = useRegistryChange((body: CreateToolRequest) => call('createTool', { body }));
  const form = useForm<ToolForm, unknown, CreateToolRequest>({
    defaultValues: { name: '', description: '' },
    resolver: contractResolver(CreateToolRequest, toBody),
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
      <h1>Tools</h1>
      <p className="muted">An agent can use only registered tools, whatever it was granted.</p>
      <ErrorNote error={remove.error} />
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
                    onConfirm={() => remove.mutate(tool.name)}
                  >
                    Remove
                  </ConfirmButton>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="toolbar" onSubmit={(event) => void onSubmit(event)} noValidate aria-label="Register a tool">
        <label>
          Tool <input {...form.register('name')} placeholder="web_search" aria-invalid={!!errors.name} />
        </label>
        <label>
          Description <input {...form.register('description')} aria-invalid={!!errors.description} />
        </label>
        <button disabled={!form.watch('name') || create.isPending}>Register tool</button>
      </form>
      <FieldError error={errors.name} />
      <FieldError error={errors.description} />
      <ErrorNote error={create.error} fields={FIELDS} />
    </>
  );
}
