import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { CreateUserRequest, type UserRole } from '@gatehouse/shared';
import { call } from '../../api.js';
import { Dialog, ErrorNote, FieldError, FormActions } from '../../ui/components.js';
import { contractResolver, showProblemOnFields } from '../../ui/forms.js';
import { userKeys } from './queries.js';

interface CreateUserForm {
  username: string;
  password: string;
  role: UserRole;
}

const FIELDS = ['username', 'password', 'role'] as const;

export function CreateUserDialog({ onClose }: { onClose: () => void }): React.JSX.Element {
  const client = useQueryClient();
  const form = useForm<CreateUserForm, unknown, CreateUserRequest>({
    defaultValues: { username: '', password: '', role: 'viewer' },
    resolver: contractResolver(CreateUserRequest, (values: CreateUserForm): CreateUserRequest => values),
  });
  const create = useMutation({
    mutationFn: (body: CreateUserRequest) => call('createUser', { body }),
    onSuccess: () => client.invalidateQueries({ queryKey: userKeys.all }),
  });
  const onSubmit = form.handleSubmit((body) =>
    create.mutate(body, {
      onSuccess: onClose,
      onError: (error) => showProblemOnFields(error, FIELDS, form.setError),
    }),
  );
  const { errors } = form.formState;
  return (
    <Dialog title="Create user" onClose={onClose}>
      <form className="form" onSubmit={(event) => void onSubmit(event)} noValidate>
        <label>
          Username
          <input {...form.register('username')} aria-invalid={!!errors.username} />
        </label>
        <FieldError error={errors.username} />
        <label>
          Password
          <input type="password" {...form.register('password')} aria-invalid={!!errors.password} />
        </label>
        <FieldError error={errors.password} />
        <label>
          Role
          <select {...form.register('role')}>
            <option value="viewer">viewer</option>
            <option value="admin">admin</option>
            <option value="super_admin">super_admin</option>
          </select>
        </label>
        <FieldError error={errors.role} />
        <ErrorNote error={create.error} fields={FIELDS} />
        <FormActions submit="Create" busy={create.isPending} onCancel={onClose} />
      </form>
    </Dialog>
  );
}
