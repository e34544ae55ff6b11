/**
 * Code lists imported into the database (`sharedcare codes import`, POST /admin/code-lists): named,
 * with the version and date they carry, in force beside the configured lists. Importing a list
 * under a name already held replaces it.
 */
import type { Queryable } from '../db/index.ts';
import type { SensitiveCode } from './code-list-formats.ts';
import { codesDigest } from './sensitive-codes.ts';

export interface CodeListInfo {
  name: string;
  version: string | null;
  date: string | null;
  sourceFile: string | null;
  digest: string;
  codeCount: number;
  importedAt: string;
  importedBy: string;
}

export interface CodeListImport {
  name: string;
  version?: string | undefined;
  date?: string | undefined;
  sourceFile?: string | undefined;
  codes: SensitiveCode[];
}

export async function importedCodes(q: Queryable): Promise<SensitiveCode[]> {
  const { rows } = await q.query<SensitiveCode>(
    `SELECT category, system, code, match FROM code_list_entry ORDER BY list_name, system, code`,
  );
  return rows;
}

export async function listCodeLists(q: Queryable): Promise<CodeListInfo[]> {
  const { rows } = await q.query<CodeListInfo>(
    `SELECT name, version, list_date AS date, source_file AS "sourceFile", digest, code_count AS "codeCount",
       imported_at::text AS "importedAt", imported_by AS "importedBy" FROM code_list ORDER BY name`,
  );
  return rows;
}

export async function codesOfList(q: Queryable, name: string): Promise<SensitiveCode[]> {
  const { rows } = await q.query<SensitiveCode>(
    `SELECT category, system, code, match FROM code_list_entry WHERE list_name = $1`,
    [name],
  );
  return rows;
}

/** Stores (or replaces) one list; the caller relabels the store in the same transaction. */
export async function storeCodeList(
  tx: Queryable,
  list: CodeListImport,
  by: string,
  now: Date,
): Promise<CodeListInfo> {
  const digest = codesDigest(list.codes);
  await tx.query(`DELETE FROM code_list WHERE name = $1`, [list.name]);
  await tx.query(
    `INSERT INTO code_list (name, version, list_date, source_file, digest, code_count, imported_at, imported_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      list.name,
      list.version ?? null,
      list.date ?? null,
      list.sourceFile ?? null,
      digest,
      list.codes.length,
      now,
      by,
    ],
  );
  if (list.codes.length > 0)
    await tx.query(
      `INSERT INTO code_list_entry (list_name, category, system, code, match)
       SELECT $1, c, s, k, m FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(c, s, k, m)
       ON CONFLICT DO NOTHING`,
      [
        list.name,
        list.codes.map((c) => c.category),
        list.codes.map((c) => c.system),
        list.codes.map((c) => c.code),
        list.codes.map((c) => c.match),
      ],
    );
  return (await listCodeLists(tx)).find((l) => l.name === list.name)!;
}

export async function removeCodeList(tx: Queryable, name: string): Promise<boolean> {
  const r = await tx.query(`DELETE FROM code_list WHERE name = $1`, [name]);
  return (r.rowCount ?? 0) > 0;
}
