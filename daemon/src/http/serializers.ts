import fastJson from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify';
import { isSafeName, NAME_FORMAT } from '@gatehouse/shared';

type Schema = Record<string, unknown>;

const isSchema = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Answers are written by fast-json-stringify, as Fastify does by default, so only the fields a
 * response schema names ever leave the daemon. But fast-json-stringify picks the branch of an
 * `anyOf` by running a full validator (formats included) of each branch on every answer, and
 * the contract is full of them: every `Nullable(…)`, every union of literals, and whoami's union
 * of principals. The schema is therefore first rewritten, for serialising only (validation and
 * OpenAPI keep the contract's), into forms that say the same without a validator.
 */
export const compileSerializer = (schema: Schema): ((data: unknown) => string) =>
  fastJson(forSerialization(schema) as unknown as Parameters<typeof fastJson>[0], {
    // The validator it runs to pick an `if`/`then` branch knows the contract's own formats too.
    ajv: { formats: { [NAME_FORMAT]: { type: 'string', validate: isSafeName } } },
  });

/**
 * Fastify's serializer compiler, compiling on the route's first answer rather than at start: the
 * daemon has ~80 routes with several responses each and a session calls few of them, and
 * compiling every schema (validators too) was a fifth of the daemon's start.
 */
export const serializerCompiler: FastifySerializerCompiler<Schema> = ({ schema }) => {
  let serialize: ((data: unknown) => string) | undefined;
  return (data) => (serialize ??= compileSerializer(schema))(data);
};

/** A copy of `schema` with its `anyOf`s rewritten where a cheaper form serialises the same. */
export function forSerialization(schema: Schema): Schema {
  const rewritten: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'const' || key === 'enum' || key === 'default' || key === 'examples') rewritten[key] = value;
    else if (Array.isArray(value))
      rewritten[key] = value.map((item) => (isSchema(item) ? forSerialization(item) : item));
    else rewritten[key] = isSchema(value) ? forSerialization(value) : value;
  }
  const branches = rewritten.anyOf;
  if (!Array.isArray(branches)) return rewritten;
  const { anyOf: _, ...siblings } = rewritten;
  return (
    literalUnion(siblings, branches) ??
    distinctTypes(siblings, branches) ??
    taggedUnion(siblings, branches) ??
    rewritten
  );
}

/** `"a" | "b"` (literals of one type): their type, which is all a serialiser needs. */
function literalUnion(siblings: Schema, branches: Schema[]): Schema | undefined {
  const type = branches[0]?.type;
  if (typeof type !== 'string' || !branches.every((b) => b.type === type && b.const !== undefined)) return undefined;
  return { ...siblings, type, enum: branches.map((b) => b.const) };
}

/**
 * `X | null`, `"*" | string[]`: branches each of a type of its own make one type array, which
 * fast-json-stringify tells apart with `typeof`.
 */
function distinctTypes(siblings: Schema, branches: Schema[]): Schema | undefined {
  const types = branches.map((b) => b.type);
  if (!types.every((type) => typeof type === 'string') || new Set(types).size !== types.length) return undefined;
  // A const would be written whatever the value is: the branches keep their shapes only.
  const shapes = branches.map(({ const: _, ...shape }) => shape);
  // Checked in this order: a string branch would also take arrays and objects (their toString).
  const order = ['null', 'array', 'object'];
  const rank = (type: unknown) => (order.includes(type as string) ? order.indexOf(type as string) : order.length);
  return { ...siblings, ...Object.assign({}, ...shapes), type: [...types].sort((a, b) => rank(a) - rank(b)) };
}

/**
 * Objects told apart by a property with a constant value (whoami's `principal`): if/then/else on
 * that property alone. The last branch is the final else.
 */
function taggedUnion(siblings: Schema, branches: Schema[]): Schema | undefined {
  const tagOf = (branch: Schema, name: string): unknown => {
    const properties = branch.type === 'object' && isSchema(branch.properties) ? branch.properties : {};
    const property = properties[name];
    return isSchema(property) ? property.const : undefined;
  };
  const first = branches[0];
  const names = first && isSchema(first.properties) ? Object.keys(first.properties) : [];
  const tag = names.find((name) => branches.every((branch) => tagOf(branch, name) !== undefined));
  if (!tag) return undefined;
  const chain = branches.reduceRight<Schema | undefined>(
    (otherwise, branch) =>
      otherwise === undefined
        ? branch
        : {
            type: 'object',
            if: { type: 'object', properties: { [tag]: { const: tagOf(branch, tag) } } },
            then: branch,
            else: otherwise,
          },
    undefined,
  );
  return { ...siblings, ...chain };
}
