/**
 * The interface intake links source records through (the master patient index in linker.ts
 * implements it), and the NHS number a source's Patient carries.
 */
import type { Patient } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import { NHS_NUMBER_SYSTEM, normaliseNhsNumber } from './nhs-number.ts';

export interface SourcePatient {
  localId: string;
  patient: Patient;
  contentHash: string;
}

/**
 * Why a source record is on its person: a trusted NHS number; demographics over the link threshold
 * ('matched'); standing alone ('unverified'); or a decision: an administrator's review ('review-link')
 * or split ('admin'), a source's own merge ('source-merge'), a remembered decision ('remembered').
 */
export type LinkReason =
  'nhs-number' | 'matched' | 'unverified' | 'review-link' | 'admin' | 'source-merge' | 'remembered';

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
  /**
   * person ids of already-linked source records; missing ones are absent from the map. A local id
   * `nhs-number-{n}` (BY_NHS_NUMBER) stands for "the person with NHS number n, if this source has
   * sent a record linked to them": an item that names its patient by NHS number alone.
   */
  resolveSourcePatients(tx: Queryable, sourceId: string, localIds: string[]): Promise<Map<string, string>>;
}

/** The local id an item naming its patient by NHS number alone is resolved under (resolveSourcePatients). */
export const BY_NHS_NUMBER = 'nhs-number-';

/** The NHS number a Patient carries, if any (normalised, not yet checked). */
export function nhsNumberOf(patient: Patient): string | undefined {
  const id = patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM && i.value);
  return id?.value ? normaliseNhsNumber(id.value) : undefined;
}
