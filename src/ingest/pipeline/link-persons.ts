/**
 * Stage: link to a person. Each Patient the request carries is a source record; the master patient
 * index (identity) links it to a person. A record identity moves to another person takes its
 * clinical items (and their relationship facts) along.
 */
import type { Patient } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/index.ts';
import {
  isValidNhsNumber,
  NHS_NUMBER_SYSTEM,
  normaliseNhsNumber,
  sourceRecordsByIdentifier,
  type LinkOutcome,
  type PersonLinker,
  type SourcePatient,
} from '../../identity/index.ts';
import { entryLocalId, rewriteReferences } from '../references.ts';
import { contentHash } from './content-hash.ts';
import { itemMover, type MoveFollowers } from '../relink.ts';
import {
  fileAs,
  fileConditionals,
  findStoredNames,
  localIdsByName,
  newConditionalName,
} from './stored-names.ts';
import type { IntakeRun } from './types.ts';

export interface LinkedPatients {
  links: LinkOutcome[];
  /** the source records as linked (references rewritten), by local id */
  patients: Map<string, Patient>;
}

/** The request's Patients as source records; a later entry for the same local id wins. */
export function sourcePatientsOf(run: IntakeRun): { i: number; record: SourcePatient }[] {
  return run.entries.flatMap((e, i) => {
    if (e.resource?.resourceType !== 'Patient') return [];
    const localId = entryLocalId(e)!;
    const patient = rewriteReferences(e.resource as Patient, {
      sourceId: run.source.id,
      index: run.index,
      personFor: () => undefined,
    });
    return [
      { i, record: { localId, patient: { ...patient, id: localId }, contentHash: contentHash(patient) } },
    ];
  });
}

/**
 * A Patient sent as a conditional create (conditional-create.ts) is the source record this source
 * sent before with the identifier it names, if there is one: found through its NHS number or birth
 * date (identity), it keeps that record's local id, so that a re-export under fresh ids adds no
 * second record of the same person.
 */
async function findConditionalPatients(tx: Queryable, linker: PersonLinker, run: IntakeRun): Promise<void> {
  const sought = run.entries.filter((e) => e.conditional && e.resource?.resourceType === 'Patient');
  if (sought.length === 0) return;
  const wanted = sought.map((e) => {
    const p = e.resource as Patient;
    const nhs = normaliseNhsNumber(p.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value ?? '');
    return {
      ...e.conditional!,
      ...(isValidNhsNumber(nhs) ? { nhsNumber: nhs } : {}),
      ...(p.birthDate ? { birthDate: p.birthDate } : {}),
    };
  });
  const found = await sourceRecordsByIdentifier(tx, run.source.id, wanted);
  await fileConditionals(
    run,
    sought,
    (e) => found.get(`${e.conditional!.system}|${e.conditional!.value}`),
    async (localIds) => new Set((await linker.resolveSourcePatients(tx, run.source.id, localIds)).keys()),
    (e) => newConditionalName(e),
  );
}

/**
 * A Patient PUT under another name of a record the source sent (stored-names.ts: an alias a
 * re-export left, or the person's id intake answered with) is that record, not a second one.
 * Only a PUT's: a POST's id is the sender's own (and most feeds POST their Patients).
 */
async function findNamedPatients(tx: Queryable, run: IntakeRun): Promise<void> {
  const puts = run.entries.filter(
    (e) => e.resource?.resourceType === 'Patient' && e.method === 'PUT' && !e.conditional,
  );
  if (puts.length === 0) return;
  const found = await findStoredNames(
    tx,
    run.source,
    puts.map((e) => ({ type: 'Patient', localId: entryLocalId(e)! })),
  );
  const to = localIdsByName(found);
  for (const e of puts) {
    const localId = to.get(`Patient/${entryLocalId(e)}`);
    if (localId !== undefined) fileAs(run, e, localId);
  }
}

export async function linkPersons(
  tx: Queryable,
  linker: PersonLinker,
  run: IntakeRun,
): Promise<LinkedPatients> {
  await findNamedPatients(tx, run);
  await findConditionalPatients(tx, linker, run);
  const sent = sourcePatientsOf(run);
  const last = new Map(sent.map((s) => [s.record.localId, s.record]));
  const links = await linker.linkSourcePatients(tx, run.source.id, [...last.values()]);
  const byLocal = new Map(links.map((l) => [l.localId, l]));
  for (const l of links) run.personByLocal.set(l.localId, l.personId);
  for (const { i, record } of sent) {
    const link = byLocal.get(record.localId)!;
    run.results[i] = {
      at: run.entries[i]!.at,
      action: link.unchanged ? 'unchanged' : 'linked',
      resourceType: 'Patient',
      id: link.personId,
      note: link.reason,
    };
  }
  return { links, patients: new Map([...last].map(([k, r]) => [k, r.patient])) };
}

/**
 * Items of source records that identity moved to another person follow them, with what derives
 * from them (before the Patients' own facts are replaced at their new person).
 */
export async function moveRelinkedItems(
  tx: Queryable,
  run: IntakeRun,
  links: LinkOutcome[],
  followers: MoveFollowers,
): Promise<void> {
  const move = itemMover(followers);
  for (const l of links)
    if (l.previousPersonId) await move(tx, run.source.id, l.localId, l.previousPersonId, l.personId);
}
