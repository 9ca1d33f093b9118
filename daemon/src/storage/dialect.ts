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
}

const sqlite: Dialect = {
  equalsIgnoringCase: (column, param) => `${column} = :${param} COLLATE NOCASE`,
  likeIgnoringCase: (column, param) => `${column} LIKE :${param} ESCAPE '\\'`,
};

/** The e-mail index is on `lower(email)` (migrations/postgres/0001). */
const postgres: Dialect = {
  equalsIgnoringCase: (column, param) => `lower(${column}) = lower(:${param})`,
  likeIgnoringCase: (column, param) => `${column} ILIKE :${param} ESCAPE '\\'`,
};

export const dialects: Record<Driver, Dialect> = { sqlite, postgres };
