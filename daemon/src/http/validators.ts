import { Ajv, type Options, type ValidateFunction } from 'ajv';
import formatsPlugin from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { isSafeName, NAME_FORMAT } from '@gatehouse/shared';

// ajv-formats is CommonJS; under ESM its plugin may arrive as the module's default export.
const addFormats = ((formatsPlugin as unknown as { default?: typeof formatsPlugin }).default ??
  formatsPlugin) as unknown as (ajv: Ajv) => Ajv;

const common: Options = {
  // Unknown fields are refused, never silently dropped; every failure is reported at once.
  removeAdditional: false,
  useDefaults: true,
  allErrors: true,
  strict: false,
};

/**
 * Query strings, path and headers arrive as text and are coerced to their schema types
 * (`?limit=20` → 20). Bodies are JSON and are never coerced: coercion inside `anyOf` would turn
 * an explicit `null` (PATCH: "clear this field") into `""`.
 */
const withFormats = (ajv: Ajv) => addFormats(ajv).addFormat(NAME_FORMAT, { type: 'string', validate: isSafeName });
const coercing = withFormats(new Ajv({ ...common, coerceTypes: 'array' }));
const exact = withFormats(new Ajv({ ...common, coerceTypes: false }));

export const compileValidator = (schema: object, httpPart: string | undefined): ValidateFunction =>
  (httpPart === 'body' ? exact : coercing).compile(schema);

/**
 * Fastify's validator compiler, compiling on the route's first request rather than at start (as
 * its serializers do, see serializers.ts). Fastify reads a failure's details from `errors`.
 */
export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  validateOnFirstUse(schema, httpPart, false);

/**
 * The contract routes' validator compiler: as `validatorCompiler`, and no body at all (which
 * Fastify hands the validator as null) reads as `{}`, so an empty POST is valid where every field
 * is optional. The body's validator runs on every request anyway: a preValidation hook for it
 * cost each request a hook phase of its own.
 */
export const contractValidatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  validateOnFirstUse(schema, httpPart, httpPart === 'body');

function validateOnFirstUse(schema: object, httpPart: string | undefined, noBodyIsEmpty: boolean) {
  let validate: ValidateFunction | undefined;
  const validateData = (data: unknown): boolean | { value: object } => {
    validate ??= compileValidator(schema, httpPart);
    // Fastify takes `{ value }` as the request part: the `{}` (with any defaults) replaces the null.
    const value = noBodyIsEmpty && data === null ? {} : data;
    const valid = validate(value) as boolean;
    validateData.errors = validate.errors;
    return valid && value !== data ? { value: value as object } : valid;
  };
  validateData.errors = undefined as ValidateFunction['errors'];
  return validateData as ReturnType<FastifySchemaCompiler<object>>;
}
