import type { Driver } from './database.js';

/**
 * The few pieces of SQL that cannot be written once for SQLite and PostgreSQL, side by side.
 * Query-builder conditions take them as text; parameters are named as TypeORM names them.
 */
export interface Dialect {
  /** `column` equals the text parameter `:param` in any case: SQLite's `COLLATE NOCASE`, which its e-mail index has. */
  equalsIgnoringCase(column: string, param: string): string;
  /** `column` matches the LIKE pattern `:param` (escaped with `\`), ignoring case as SQLite's LIKE does. */
  likeIgnoringCase(column: string, param: string): string;
  /** A FROM item: the elements of the JSON array of text `json` as rows of `alias` with one column, `value`. */
  jsonArray(json: string, alias: string): string;
  /** The text at `key` of the JSON object in the text `json`. */
  jsonText(json: string, key: string): string;
  /** The number at `key` of the JSON object in the text `json`. */
  jsonNumber(json: string, key: string): string;
}

const sqlite: Dialect = {
  equalsIgnoringCase: (column, param) => `${column} = :${param} COLLATE NOCASE`,
  likeIgnoringCase: (column, param) => `${column} LIKE :${param} ESCAPE '\\'`,
  jsonArray: (json, alias) => `json_each(${json}) ${alias}`,
  jsonText: (json, key) => `json_extract(${json}, '$.${key}')`,
  jsonNumber: (json, key) => `json_extract(${json}, '$.${key}')`,
};

/** The e-mail index is on `lower(email)` (migrations/postgres/0001). */
const postgres: Dialect = {
  equalsIgnoringCase: (column, param) => `lower(${column}) = lower(:${param})`,
  likeIgnoringCase: (column, param) => `${column} ILIKE :${param} ESCAPE '\\'`,
  jsonArray: (json, alias) => `json_array_elements_text(${json}::json) ${alias}(value)`,
  jsonText: (json, key) => `(${json}::json ->> '${key}')`,
  jsonNumber: (json, key) => `(${json}::json ->> '${key}')::double precision`,
};

export const dialects: Record<Driver, Dialect> = { sqlite, postgres };
