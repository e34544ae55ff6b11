/**
 * Identity, first version: a source's Patient with a valid NHS number links to the one person with
 * that number; one without (or with an invalid one) becomes a person of its own, unverified.
 * The demographic matching engine replaces `decideLink` behind the same PersonLinker interface.
 */
import { randomUUID } from 'node:crypto';
import type { Patient } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import { isValidNhsNumber, NHS_NUMBER_SYSTEM, normaliseNhsNumber } from './nhs-number.ts';
import { ensurePersonsByNhsNumber } from './person.ts';

export interface SourcePatient {
  localId: string;
  patient: Patient;
  contentHash: string;
}

export type LinkReason = 'nhs-number' | 'unverified';

export interface LinkOutcome {
  localId: string;
  personId: string;
  reason: LinkReason;
  /** the person the source record was linked to before, when this call moved it */
  previousPersonId?: string;
  unchanged: boolean;
  /** the source record was not linked to anyone before */
  created: boolean;
}

export interface PersonLinker {
  linkSourcePatients(tx: Queryable, sourceId: string, patients: SourcePatient[]): Promise<LinkOutcome[]>;
  /** person ids of already-linked source records; missing ones are absent from the map */
  resolveSourcePatients(tx: Queryable, sourceId: string, localIds: string[]): Promise<Map<string, string>>;
}

/** The NHS number a Patient carries, if any (normalised, not yet checked). */
export function nhsNumberOf(patient: Patient): string | undefined {
  const id = patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM && i.value);
  return id?.value ? normaliseNhsNumber(id.value) : undefined;
}

interface ExistingLink {
  local_id: string;
  person_id: string;
  content_hash: string;
  nhs_number: string | null;
}

export const nhsNumberLinker: PersonLinker = {
  async resolveSourcePatients(tx, sourceId, localIds) {
    if (localIds.length === 0) return new Map();
    const { rows } = await tx.query<{ local_id: string; person_id: string }>(
      'SELECT local_id, person_id FROM person_link WHERE source_id = $1 AND local_id = ANY($2::text[])',
      [sourceId, localIds],
    );
    return new Map(rows.map((r) => [r.local_id, r.person_id]));
  },

  async linkSourcePatients(tx, sourceId, patients) {
    if (patients.length === 0) return [];
    const existing = new Map(
      (
        await tx.query<ExistingLink>(
          'SELECT local_id, person_id, content_hash, nhs_number FROM person_link WHERE source_id = $1 AND local_id = ANY($2::text[])',
          [sourceId, patients.map((p) => p.localId)],
        )
      ).rows.map((r) => [r.local_id, r]),
    );
    const validNumbers = [
      ...new Set(patients.map((p) => nhsNumberOf(p.patient)).filter((n): n is string => isValidNhsNumber(n))),
    ];
    const byNumber = new Map(
      validNumbers.length === 0
        ? []
        : (
            await tx.query<{ id: string; nhs_number: string }>(
              'SELECT id, nhs_number FROM person WHERE nhs_number = ANY($1::text[])',
              [validNumbers],
            )
          ).rows.map((r) => [r.nhs_number, r.id]),
    );
    // New numbers get their person first, safely against another request creating the same one.
    const created = await ensurePersonsByNhsNumber(
      tx,
      validNumbers.filter((n) => !byNumber.has(n)),
    );
    for (const [n, id] of created) byNumber.set(n, id);

    const newPersons: { id: string; nhs: string | null; verified: boolean }[] = [];
    const outcomes: LinkOutcome[] = [];
    const linkRows: {
      localId: string;
      personId: string;
      nhs: string | null;
      reason: LinkReason;
      hash: string;
      body: string;
    }[] = [];

    for (const p of patients) {
      const prior = existing.get(p.localId);
      const nhs = nhsNumberOf(p.patient);
      const valid = isValidNhsNumber(nhs);
      let personId: string;
      let reason: LinkReason;
      if (valid) {
        reason = 'nhs-number';
        personId = byNumber.get(nhs!)!;
      } else {
        reason = 'unverified';
        // Keep an unverified record on the person it already has, unless that person was found by an
        // NHS number the record no longer carries: then it stands alone again.
        if (prior && prior.nhs_number === null) personId = prior.person_id;
        else {
          personId = randomUUID();
          newPersons.push({ id: personId, nhs: null, verified: false });
        }
      }
      const unchanged =
        prior !== undefined && prior.content_hash === p.contentHash && prior.person_id === personId;
      outcomes.push({
        localId: p.localId,
        personId,
        reason,
        unchanged,
        created: !prior,
        ...(prior && prior.person_id !== personId ? { previousPersonId: prior.person_id } : {}),
      });
      if (!unchanged) {
        linkRows.push({
          localId: p.localId,
          personId,
          nhs: valid ? nhs! : null,
          reason,
          hash: p.contentHash,
          body: JSON.stringify(p.patient),
        });
      }
    }

    if (newPersons.length > 0) {
      await tx.query(
        `INSERT INTO person (id, nhs_number, verified)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::boolean[])`,
        [newPersons.map((p) => p.id), newPersons.map((p) => p.nhs), newPersons.map((p) => p.verified)],
      );
    }
    if (linkRows.length > 0) {
      await tx.query(
        `INSERT INTO person_link (source_id, local_id, person_id, nhs_number, link_reason, content_hash, demographics, updated_at)
         SELECT $1, l, p, n, r, h, d, now() FROM unnest($2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[]) AS t(l, p, n, r, h, d)
         ON CONFLICT (source_id, local_id) DO UPDATE SET person_id = EXCLUDED.person_id, nhs_number = EXCLUDED.nhs_number,
           link_reason = EXCLUDED.link_reason, content_hash = EXCLUDED.content_hash, demographics = EXCLUDED.demographics, updated_at = now()`,
        [
          sourceId,
          linkRows.map((r) => r.localId),
          linkRows.map((r) => r.personId),
          linkRows.map((r) => r.nhs),
          linkRows.map((r) => r.reason),
          linkRows.map((r) => r.hash),
          linkRows.map((r) => r.body),
        ],
      );
    }
    return outcomes;
  },
};
