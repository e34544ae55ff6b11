/**
 * The national data opt-out. It governs the use of a person's data for research and planning
 * (secondary use), not their direct care, so the direct-care read path never consults it. It is
 * kept here, in its own table and under its own name, so that it is never mistaken for an
 * objection; a later secondary-use feature will read it.
 */
import type { Queryable } from '../db/index.ts';

export interface OptOutStatus {
  nhsNumber: string;
  optedOut: boolean;
  source: string;
  recordedBy: string;
  recordedAt: string;
}

export async function setOptOut(
  q: Queryable,
  s: { nhsNumber: string; optedOut: boolean; source: string; recordedBy: string },
): Promise<OptOutStatus> {
  const { rows } = await q.query<Omit<OptOutStatus, 'recordedAt'> & { recordedAt: Date | string }>(
    `INSERT INTO national_data_opt_out (nhs_number, opted_out, source, recorded_by, recorded_at)
     VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (nhs_number) DO UPDATE SET opted_out = EXCLUDED.opted_out, source = EXCLUDED.source,
       recorded_by = EXCLUDED.recorded_by, recorded_at = EXCLUDED.recorded_at
     RETURNING nhs_number AS "nhsNumber", opted_out AS "optedOut", source, recorded_by AS "recordedBy", recorded_at AS "recordedAt"`,
    [s.nhsNumber, s.optedOut, s.source, s.recordedBy],
  );
  const r = rows[0]!;
  return { ...r, recordedAt: new Date(r.recordedAt).toISOString() };
}

export async function getOptOut(q: Queryable, nhsNumber: string): Promise<OptOutStatus | undefined> {
  const { rows } = await q.query<Omit<OptOutStatus, 'recordedAt'> & { recordedAt: Date | string }>(
    `SELECT nhs_number AS "nhsNumber", opted_out AS "optedOut", source, recorded_by AS "recordedBy", recorded_at AS "recordedAt"
     FROM national_data_opt_out WHERE nhs_number = $1`,
    [nhsNumber],
  );
  const r = rows[0];
  return r ? { ...r, recordedAt: new Date(r.recordedAt).toISOString() } : undefined;
}
