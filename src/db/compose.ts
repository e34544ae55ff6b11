/**
 * One statement made of several modules' reads about one person. A record open needs the person,
 * their source records, the reader's relationships and break-glass grants, the objections and their
 * overrides, and the pending identity reviews: each is one module's table and one module's SQL, and
 * each was its own round trip. Here each module contributes a fragment (a scalar sub-select over
 * the person, `$1`, that yields JSON) and the decoder of its value; the caller composes them into
 * one SELECT, so a module never reaches into another's tables and the database is asked once.
 */
import type { Queryable } from './types.ts';

export interface Fragment<T> {
  /**
   * A scalar sub-select yielding one JSON value (null when there is nothing). `$1` is the person's
   * id; `param` adds any other value as a parameter and returns its placeholder.
   */
  sql(param: (value: unknown) => string): string;
  /** the JSON value (as the driver parsed it) as the module's type */
  decode(value: unknown): T;
}

export type Decoded<F> = { [K in keyof F]: F[K] extends Fragment<infer T> ? T : never };

/** Reads every fragment about one person in one statement. */
export async function readTogether<F extends Record<string, Fragment<unknown>>>(
  q: Queryable,
  personId: string,
  fragments: F,
): Promise<Decoded<F>> {
  const params: unknown[] = [personId];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const names = Object.keys(fragments);
  const columns = names.map((k, n) => `(${fragments[k]!.sql(param)}) AS f${n}`);
  const { rows } = await q.query<Record<string, unknown>>(`SELECT ${columns.join(',\n  ')}`, params);
  const row = rows[0] ?? {};
  return Object.fromEntries(
    names.map((k, n) => [k, fragments[k]!.decode(row[`f${n}`] ?? null)]),
  ) as Decoded<F>;
}

/** One fragment on its own: the module's plain read, with the same SQL as in a composed one. */
export async function readOne<T>(q: Queryable, personId: string, fragment: Fragment<T>): Promise<T> {
  return (await readTogether(q, personId, { v: fragment })).v;
}
