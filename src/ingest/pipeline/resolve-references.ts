/**
 * Stage: resolve references. Which person each clinical item is about (its patient sent in this
 * request, or linked by an earlier one), and every reference rewritten to Sharedcare's ids. An
 * item whose patient this source has never sent is an error for the whole request.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/index.ts';
import { SharedcareError, type Problem } from '../../errors/index.ts';
import { CLINICAL_TYPES, isClinicalType, patientReferences } from '../../fhir/index.ts';
import type { PersonLinker } from '../../identity/index.ts';
import type { Entry } from '../parse.ts';
import { localIdOf, rewriteReferences, type RequestIndex } from '../references.ts';
import { resourcePath } from './validate.ts';
import type { IntakeRun } from './types.ts';

/** A clinical item with its person found and its references rewritten. */
export interface ResolvedItem {
  /** the entry's position in the request */
  i: number;
  resource: Resource;
  localId: string;
  personId: string;
  localPatientId: string;
}

/** The source-local id of the patient a clinical entry names. */
export function patientLocalOf(e: Entry, index: RequestIndex): string | undefined {
  for (const ref of patientReferences(e.resource!)) {
    const target = index.resolve(ref.reference!);
    if (target?.type === 'Patient') return target.localId;
  }
  return undefined;
}

function clinicalEntries(run: IntakeRun): { e: Entry; i: number }[] {
  return run.entries
    .map((e, i) => ({ e, i }))
    .filter(({ e }) => e.resource && isClinicalType(e.resource.resourceType));
}

/** Looks up, in one query, the persons of patients the items name but this request did not send. */
export async function resolvePersons(tx: Queryable, linker: PersonLinker, run: IntakeRun): Promise<void> {
  const missing = new Set<string>();
  for (const { e } of clinicalEntries(run)) {
    const l = patientLocalOf(e, run.index);
    if (l && !run.personByLocal.has(l)) missing.add(l);
  }
  for (const [l, p] of await linker.resolveSourcePatients(tx, run.source.id, [...missing]))
    run.personByLocal.set(l, p);
}

/** The clinical items with references rewritten; throws, naming each, for items of unknown patients. */
export function resolveItems(run: IntakeRun): ResolvedItem[] {
  const problems: Problem[] = [];
  const items: ResolvedItem[] = [];
  for (const { e, i } of clinicalEntries(run)) {
    const localPatientId = patientLocalOf(e, run.index);
    const personId = localPatientId ? run.personByLocal.get(localPatientId) : undefined;
    if (!personId) {
      const field = CLINICAL_TYPES[e.resource!.resourceType]!.patient;
      problems.push({
        message: `${field} refers to a patient this source has not sent (send the Patient first, or in the same request)`,
        expression: `${resourcePath(e)}.${field}`,
      });
      continue;
    }
    const localId = localIdOf(e.resource!, e.fullUrl)!;
    const resource = rewriteReferences(e.resource!, {
      sourceId: run.source.id,
      index: run.index,
      personFor: (l) => run.personByLocal.get(l),
    });
    items.push({ i, resource, localId, personId, localPatientId: localPatientId! });
  }
  if (problems.length > 0)
    throw new SharedcareError(
      'invalid-resource',
      'the request refers to unknown patients; nothing was stored',
      problems,
    );
  return items;
}
