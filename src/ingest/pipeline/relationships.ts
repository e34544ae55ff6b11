/**
 * Stage: relationship facts. What arrives tells the access module which organisations care for
 * whom (a registration, an admission, a referral, an appointment): the facts of each Patient whose
 * link changed and of each item stored, changed or deleted (a deleted item's facts are withdrawn).
 */
import type { Patient } from '@medplum/fhirtypes';
import type { Queryable } from '../../db/index.ts';
import type { LinkOutcome } from '../../identity/index.ts';
import type { SourceSystem } from '../../region/index.ts';
import { itemId } from '../references.ts';
import type { Stored } from './store.ts';
import type { RelationshipRecorder } from './types.ts';

const STORED_ACTIONS = new Set(['created', 'updated', 'deleted']);

export async function recordPatientFacts(
  tx: Queryable,
  rel: RelationshipRecorder,
  source: SourceSystem,
  links: LinkOutcome[],
  patients: Map<string, Patient>,
): Promise<void> {
  await rel.record(
    tx,
    links
      .filter((l) => !l.unchanged)
      .map((l) => ({
        itemId: itemId(source.id, 'Patient', l.localId),
        personId: l.personId,
        facts: rel.facts(patients.get(l.localId)!, source.org, source.orgKind),
      })),
  );
}

export async function recordItemFacts(
  tx: Queryable,
  rel: RelationshipRecorder,
  source: SourceSystem,
  stored: Stored,
): Promise<void> {
  await rel.record(
    tx,
    stored.written
      .filter((w) => STORED_ACTIONS.has(w.action))
      .map(({ item, action }) => ({
        itemId: item.id,
        personId: item.personId,
        facts: item.deleted ? [] : rel.facts(item.resource, source.org, source.orgKind),
        created: action === 'created',
      })),
  );
  await rel.record(
    tx,
    stored.deleted
      .filter((d) => d.action === 'deleted')
      .map((d) => ({ itemId: d.id, personId: 'personId' in d ? d.personId! : '', facts: [] })),
  );
}
