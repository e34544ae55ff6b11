/**
 * The master patient index behind the PersonLinker interface: a trusted NHS number links
 * deterministically; anything else is scored (Fellegi–Sunter) against the handful of records that
 * share a blocking key, and linked, queued for review, or kept apart. A record already linked stays
 * where it is unless what identifies it changed; decisions made by administrators are remembered.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/index.ts';
import {
  decideLink,
  recordKey,
  scorePersons,
  type CandidateRecord,
  type Decision,
  type PersonScore,
} from './decide.ts';
import { blockingKeys, featuresOf, swappedDate, type MatchFeatures } from './features.ts';
import {
  claimNhsNumbers,
  findCandidates,
  insertPersons,
  lockBlockingKeys,
  queueReviews,
  rememberedDecisions,
  termFrequencies,
  upsertLinks,
  type LinkRow,
} from './index-store.ts';
import type { LinkOutcome, LinkReason, PersonLinker, SourcePatient } from './link.ts';
import type { MatchRules } from './rules.ts';

interface Prior {
  local_id: string;
  person_id: string;
  content_hash: string;
  nhs_number: string | null;
  link_reason: string;
  person_nhs: string | null;
}

/** Reasons an administrator or the source itself decided: the matcher does not undo them. */
const DECIDED = new Set(['review-link', 'admin', 'source-merge', 'remembered']);

/** Candidates by blocking key, growing as the batch's own records are decided. */
class CandidatePool {
  private byKey = new Map<string, CandidateRecord[]>();
  constructor(records: CandidateRecord[]) {
    for (const r of records) this.add(r);
  }
  add(r: CandidateRecord): void {
    const k = blockingKeys(r.features);
    for (const key of [k.dob && `d:${k.dob}`, k.name && `n:${k.name}`, k.postcode && `p:${k.postcode}`])
      if (key) this.byKey.set(key, [...(this.byKey.get(key) ?? []), r]);
  }
  near(f: MatchFeatures, self: string): CandidateRecord[] {
    const k = blockingKeys(f);
    const swapped = swappedDate(f.birthDate);
    const found = new Map<string, CandidateRecord>();
    for (const key of [
      k.dob && `d:${k.dob}`,
      swapped && `d:${swapped}`,
      k.name && `n:${k.name}`,
      k.postcode && `p:${k.postcode}`,
    ])
      for (const r of (key && this.byKey.get(key)) || []) {
        const id = recordKey(r.sourceId, r.localId);
        if (id !== self) found.set(id, r);
      }
    return [...found.values()];
  }
  /** a record moved or a person took an NHS number: later decisions in the batch see it */
  update(sourceId: string, localId: string, personId: string, personNhs: string | null): void {
    for (const list of this.byKey.values())
      for (const r of list)
        if (r.personId === personId || (r.sourceId === sourceId && r.localId === localId)) {
          r.personId = personId;
          r.personNhs = r.personNhs ?? personNhs;
        }
  }
}

function lockKeys(f: MatchFeatures): string[] {
  const keys: string[] = [];
  if (f.nhsTrusted) keys.push(`nhs:${f.nhs}`);
  if (f.birthDate) keys.push(`dob:${f.birthDate}`, `dob:${swappedDate(f.birthDate) ?? f.birthDate}`);
  else if (f.postcode) keys.push(`pc:${f.postcode}`);
  return keys;
}

/** Stay on the person the record is on, when nothing that identifies it says otherwise. */
function staysWith(prior: Prior | undefined, f: MatchFeatures, d: Decision): boolean {
  if (!prior || d.kind === 'nhs-number') return false;
  const nhsConflict = f.nhsTrusted && prior.person_nhs !== null && prior.person_nhs !== f.nhs;
  if (nhsConflict) return false;
  const lostItsNumber =
    prior.link_reason === 'nhs-number' && prior.nhs_number !== (f.nhsTrusted ? f.nhs : null);
  if (lostItsNumber) return false;
  return d.kind === 'new' || DECIDED.has(prior.link_reason);
}

export function createPersonLinker(rules: MatchRules): PersonLinker {
  return {
    async resolveSourcePatients(tx, sourceId, localIds) {
      if (localIds.length === 0) return new Map();
      const { rows } = await tx.query<{ local_id: string; person_id: string }>(
        'SELECT local_id, person_id FROM person_link WHERE source_id = $1 AND local_id = ANY($2::text[])',
        [sourceId, localIds],
      );
      return new Map(rows.map((r) => [r.local_id, r.person_id]));
    },
    linkSourcePatients: (tx, sourceId, patients) => linkBatch(rules, tx, sourceId, patients),
  };
}

async function linkBatch(
  rules: MatchRules,
  tx: Queryable,
  sourceId: string,
  patients: SourcePatient[],
): Promise<LinkOutcome[]> {
  if (patients.length === 0) return [];
  const localIds = patients.map((p) => p.localId);
  const priors = new Map(
    (
      await tx.query<Prior>(
        `SELECT l.local_id, l.person_id, l.content_hash, l.nhs_number, l.link_reason, p.nhs_number AS person_nhs
           FROM person_link l JOIN person p ON p.id = l.person_id
          WHERE l.source_id = $1 AND l.local_id = ANY($2::text[])`,
        [sourceId, localIds],
      )
    ).rows.map((r) => [r.local_id, r]),
  );
  const outcomes = new Map<string, LinkOutcome>();
  const todo = patients.filter((p) => {
    const prior = priors.get(p.localId);
    if (prior?.content_hash !== p.contentHash) return true;
    outcomes.set(p.localId, {
      localId: p.localId,
      personId: prior.person_id,
      reason: prior.link_reason as LinkReason,
      unchanged: true,
      created: false,
    });
    return false;
  });
  if (todo.length > 0) await decideBatch(rules, tx, sourceId, todo, priors, outcomes);
  return patients.map((p) => outcomes.get(p.localId)!);
}

async function decideBatch(
  rules: MatchRules,
  tx: Queryable,
  sourceId: string,
  todo: SourcePatient[],
  priors: Map<string, Prior>,
  outcomes: Map<string, LinkOutcome>,
): Promise<void> {
  const feats = todo.map((p) => featuresOf(p.patient));
  await lockBlockingKeys(tx, feats.flatMap(lockKeys));
  const trusted = [...new Set(feats.filter((f) => f.nhsTrusted).map((f) => f.nhs!))];
  const personByNhs = new Map(
    trusted.length === 0
      ? []
      : (
          await tx.query<{ id: string; nhs_number: string }>(
            'SELECT id, nhs_number FROM person WHERE nhs_number = ANY($1::text[])',
            [trusted],
          )
        ).rows.map((r) => [r.nhs_number, r.id]),
  );
  const pool = new CandidatePool(
    await findCandidates(
      tx,
      feats.map(blockingKeys),
      feats.map((f) => swappedDate(f.birthDate)).filter((d): d is string => !!d),
    ),
  );
  const remembered = await rememberedDecisions(
    tx,
    sourceId,
    todo.map((p) => p.localId),
  );
  const tfs = await termFrequencies(
    tx,
    feats.flatMap((f) => [
      { field: 'family', value: f.family.join(' ') },
      { field: 'given', value: f.given[0] ?? '' },
    ]),
  );
  const tf = (field: string, value: string) => tfs.get(`${field}|${value}`);

  const newPersons: { id: string; nhs: string | null }[] = [];
  const claims: { id: string; nhs: string }[] = [];
  const links: LinkRow[] = [];
  const reviews: { localId: string; candidate: PersonScore; id: string }[] = [];
  todo.forEach((p, i) => {
    const f = feats[i]!;
    const prior = priors.get(p.localId);
    const rem = remembered.get(p.localId) ?? { link: new Set<string>(), apart: new Set<string>() };
    const scored = scorePersons(rules, sourceId, f, pool.near(f, recordKey(sourceId, p.localId)), rem, tf);
    const decision = decideLink(f, f.nhsTrusted ? personByNhs.get(f.nhs!) : undefined, scored, rem);
    let personId: string;
    let reason: LinkReason;
    let weight: number | null = null;
    if (staysWith(prior, f, decision)) {
      personId = prior!.person_id;
      reason = (
        DECIDED.has(prior!.link_reason)
          ? prior!.link_reason
          : decision.kind === 'new'
            ? prior!.link_reason
            : 'matched'
      ) as LinkReason;
      if (f.nhsTrusted && prior!.person_nhs === null && !personByNhs.has(f.nhs!)) {
        claims.push({ id: personId, nhs: f.nhs! });
        personByNhs.set(f.nhs!, personId);
        reason = 'nhs-number';
      }
    } else if (decision.kind === 'new') {
      personId = randomUUID();
      reason = f.nhsTrusted ? 'nhs-number' : 'unverified';
      newPersons.push({ id: personId, nhs: f.nhsTrusted ? f.nhs! : null });
      if (f.nhsTrusted) personByNhs.set(f.nhs!, personId);
      for (const candidate of decision.review)
        reviews.push({ localId: p.localId, candidate, id: randomUUID() });
    } else {
      personId = decision.personId;
      reason = decision.kind === 'claim' ? 'nhs-number' : decision.kind;
      if (decision.kind === 'claim' || decision.kind === 'matched') weight = decision.weight;
      if (decision.kind === 'claim') {
        claims.push({ id: personId, nhs: f.nhs! });
        personByNhs.set(f.nhs!, personId);
      }
    }
    const personNhs = f.nhsTrusted ? f.nhs! : null;
    pool.update(sourceId, p.localId, personId, personNhs);
    pool.add({ sourceId, localId: p.localId, personId, personNhs, features: f });
    outcomes.set(p.localId, {
      localId: p.localId,
      personId,
      reason,
      unchanged: false,
      created: !prior,
      ...(prior && prior.person_id !== personId ? { previousPersonId: prior.person_id } : {}),
    });
    links.push({
      localId: p.localId,
      personId,
      nhs: f.nhsTrusted ? f.nhs : null,
      reason,
      hash: p.contentHash,
      body: JSON.stringify(p.patient),
      features: f,
      keys: blockingKeys(f),
      weight,
    });
  });
  await insertPersons(tx, newPersons);
  await claimNhsNumbers(tx, claims);
  await upsertLinks(tx, sourceId, links);
  await queueReviews(tx, sourceId, reviews);
}
