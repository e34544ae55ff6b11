/** Access reports as CSV, one row per event, for a spreadsheet or a case file. */
import { stringify } from 'csv-stringify/sync';
import type { ReportRow } from './report.ts';

export const CSV_COLUMNS = [
  'at',
  'action',
  'outcome',
  'user_id',
  'user_name',
  'user_role',
  'user_org',
  'client',
  'person_id',
  'query',
  'basis',
  'reasons',
  'returned_count',
  'returned_digest',
  'detail',
  'seq',
  'chain',
  'chain_seq',
  'hash',
] as const;

/** A cell a spreadsheet would run as a formula (=, +, -, @) is prefixed with a quote. */
export const safeCell = (v: string): string => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);

export function reportCsv(rows: ReportRow[]): string {
  return stringify(
    rows.map((r) =>
      [
        r.at,
        r.action,
        r.outcome,
        r.user?.id ?? '',
        r.user?.name ?? '',
        r.user?.role ?? '',
        r.user?.org ?? '',
        r.client ?? '',
        r.personId ?? '',
        r.query ?? '',
        r.basis ?? '',
        (r.reasons ?? []).join(';'),
        r.returned ? String(r.returned.count) : '',
        r.returned?.digest ?? '',
        r.detail ?? '',
        r.seq,
        String(r.chain),
        r.chainSeq,
        r.hash,
      ].map(safeCell),
    ),
    { header: true, columns: [...CSV_COLUMNS] },
  );
}
