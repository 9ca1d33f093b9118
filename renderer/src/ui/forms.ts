import type { FieldValues, Path, Resolver, UseFormSetError } from 'react-hook-form';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { ApiError } from '../api.js';

/**
 * Validates a form on the client with the contract's own schema for the request it sends: the form's
 * values become the request body (`toBody`), the body is checked against the route's TypeBox schema,
 * and each error lands on the form field named like the body property it concerns (`/scopes/2` →
 * `scopes`). The form's values are shaped for typing (a comma-separated list, an empty optional
 * field), which is why this maps first and cannot hand the values straight to `typeboxResolver`.
 */
export function contractResolver<Form extends FieldValues, Body>(
  schema: TSchema,
  toBody: (values: Form) => Body,
  /** A body property whose form field has another name (`totp_code` → `code`). */
  fieldOf: Record<string, Path<Form>> = {},
): Resolver<Form, unknown, Body> {
  return (values) => {
    const body = toBody(values);
    const errors: Record<string, { type: string; message: string }> = {};
    for (const error of Value.Errors(schema, body)) {
      const fields =
        error.keyword === 'required'
          ? (error.params as { requiredProperties: string[] }).requiredProperties
          : [error.instancePath.split('/')[1] ?? ''];
      for (const property of fields)
        errors[fieldOf[property] ?? property] ??= {
          type: error.keyword,
          message: messageOf(error.keyword, error.message),
        };
    }
    if (Object.keys(errors).length === 0) return { values: body, errors: {} };
    return { values: {}, errors: errors as never };
  };
}

/** TypeBox's messages, as a sentence; a pattern (a regular expression) means nothing to the reader. */
const messageOf = (keyword: string, message: string) =>
  keyword === 'required'
    ? 'Required.'
    : keyword === 'pattern'
      ? 'Not in the accepted form.'
      : `${message.charAt(0).toUpperCase()}${message.slice(1)}.`;

/**
 * Puts the daemon's field errors (`body.name` → `name`) on the form's own fields; the ones about a
 * field the form does not have are left to the form's ErrorNote.
 */
export function showProblemOnFields<Form extends FieldValues>(
  error: unknown,
  fields: readonly Path<Form>[],
  setError: UseFormSetError<Form>,
): void {
  if (!(error instanceof ApiError)) return;
  for (const field of fields) {
    const message = error.fieldError(field);
    if (message) setError(field, { type: 'server', message });
  }
}
