/**
 * The master patient index behind the PersonLinker interface: a trusted NHS number links
 * deterministically; anything else is scored (Fellegi–Sunter) against the handful of records that
 * share a blocking key, and linked, queued for review, or kept apart. A record already linked stays
 * where it is unless what identifies it changed; decisions made by administrators are remembered.
 */
import { randomUUID } from 'node:crypto';
import type { Patient } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import { CandidatePool, OneRecordPool, type Candidates } from './candidate-pool.ts';
import {
  decideLink,
  recordKey,
  scorePersons,
  type CandidateRecord,
  type Decision,
  type PersonScore,
  type Remembered,
} from './decide.ts';
import { birthDatesConflict } from './comparators.ts';
import { blockingKeys, featuresOf, keyProbes, type MatchFeatures } from './features.ts';
import {
  readForDecisions,
  readOneRecord,
  type DecisionQuery,
  type DecisionReads,
  type KeySet,
} from './decision-reads.ts';
import { claimNhsNumbers, lockBlockingKeys, queueReviews, upsertLinks, type LinkRow } from './index-store.ts';
import {
  BY_NHS_NUMBER,
  type LinkOutcome,
  type LinkReason,
  type PersonLinker,
  type SourcePatient,
} from './link.ts';
import type { MatchRules } from './rules.ts';
import { isValidNhsNumber } from './nhs-number.ts';
import { lockKeys, readPriors, type Prior } from './priors.ts';
import type { TermFrequency } from './score.ts';

/** Reasons an administrator or the source itself decided: the matcher does not undo them. */
const DECIDED = new Set(['review-link', 'admin', 'source-merge', 'remembered']);

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
      const found = new Map(rows.map((r) => [r.local_id, r.person_id]));
      const byNhs = localIds.filter((l) => l.startsWith(BY_NHS_NUMBER) && !found.has(l));
      if (byNhs.length > 0) {
        // the person with that NHS number, where this source has a record linked to them
        const people = await tx.query<{ nhs: string; person_id: string }>(
          `SELECT p.nhs_number AS nhs, p.id AS person_id FROM person p
            WHERE p.nhs_number = ANY($2::text[])
              AND EXISTS (SELECT 1 FROM person_link l WHERE l.person_id = p.id AND l.source_id = $1)`,
          [sourceId, byNhs.map((l) => l.slice(BY_NHS_NUMBER.length))],
        );
        for (const r of people.rows) found.set(`${BY_NHS_NUMBER}${r.nhs}`, r.person_id);
      }
      return found;
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
  const [only] = patients;
  if (patients.length === 0) return [];
  if (patients.length === 1 && only) return [await linkOne(rules, tx, sourceId, only)];
  const priors = new Map((await readPriors(tx, sourceId, patients)).map((r) => [r.local_id, r]));
  const outcomes = new Map<string, LinkOutcome>();
  const undecided = patients.filter((p) => {
    const prior = priors.get(p.localId);
    if (prior?.content_hash !== p.contentHash) return true;
    outcomes.set(p.localId, unchangedOutcome(prior));
    return false;
  });
  const [one] = undecided;
  if (undecided.length === 1 && one) outcomes.set(one.localId, await linkOne(rules, tx, sourceId, one));
  else if (undecided.length > 1) await decideBatch(rules, tx, sourceId, undecided, priors, outcomes);
  return patients.map((p) => outcomes.get(p.localId)!);
}

const unchangedOutcome = (prior: Prior): LinkOutcome => ({
  localId: prior.local_id,
  personId: prior.person_id,
  reason: prior.link_reason as LinkReason,
  unchanged: true,
  created: false,
});

/** One record (intake's usual case): its prior, its locks and its reads in one round trip. */
async function linkOne(
  rules: MatchRules,
  tx: Queryable,
  sourceId: string,
  p: SourcePatient,
): Promise<LinkOutcome> {
  const feats = [featuresOf(p.patient)];
  const query = decisionQuery(sourceId, [p], feats);
  const read = await readOneRecord(tx, query, p.contentHash, lockKeys(feats[0]!));
  if (!read.reads) return unchangedOutcome(read.prior!);
  const outcomes = new Map<string, LinkOutcome>();
  const priors = new Map(read.prior ? [[p.localId, read.prior]] : []);
  await decideBatch(rules, tx, sourceId, [p], priors, outcomes, { feats, reads: read.reads });
  return outcomes.get(p.localId)!;
}

/** The source's merge target: `Patient.link` replaced-by another of its Patients. */
function replacedBy(p: Patient, self: string): string | undefined {
  const ref = p.link?.find((l) => l.type === 'replaced-by')?.other?.reference ?? '';
  const id = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref)?.[1];
  return id !== self ? id : undefined;
}

interface BatchContext {
  rules: MatchRules;
  sourceId: string;
  personByNhs: Map<string, string>;
  pool: Candidates;
  remembered: Map<string, Remembered>;
  tf: TermFrequency;
  /** persons of the records the batch's merges point at, and persons that still exist */
  mergeTargets: Map<string, string>;
  livePersons: Set<string>;
  /** the records of the persons the batch's NHS numbers name, by person */
  nhsPersonRecords: Map<string, CandidateRecord[]>;
}

interface Choice {
  personId: string;
  reason: LinkReason;
  weight: number | null;
  mergedFrom: string | null;
  create?: { nhs: string | null };
  claim?: boolean;
  reviews: PersonScore[];
}

/** A source merge, or the undoing of one, decides before the matcher does. */
function chooseBySource(
  p: SourcePatient,
  f: MatchFeatures,
  prior: Prior | undefined,
  ctx: BatchContext,
): Choice | undefined {
  const target = replacedBy(p.patient, p.localId);
  const into = target && ctx.mergeTargets.get(target);
  if (into) {
    const mergedFrom = prior && prior.person_id !== into ? prior.person_id : (prior?.merged_from ?? null);
    return { personId: into, reason: 'source-merge', weight: null, mergedFrom, reviews: [] };
  }
  if (target || prior?.link_reason !== 'source-merge' || !prior.merged_from) return undefined;
  const back = ctx.livePersons.has(prior.merged_from) ? prior.merged_from : undefined;
  const reason: LinkReason = f.nhsTrusted ? 'nhs-number' : 'unverified';
  return back
    ? { personId: back, reason, weight: null, mergedFrom: null, reviews: [] }
    : { personId: randomUUID(), reason, weight: null, mergedFrom: null, create: { nhs: null }, reviews: [] };
}

/**
 * A new link by NHS number to a person whose record from another source gives a different birth
 * date is not made silently: the record stands alone (without the number, which that person holds)
 * and the pair goes to identity review; once reviewed (remembered), the decision stands. A record
 * already waiting stays where it is, unless that person holds a different NHS number.
 */
function chooseOnBirthDateConflict(
  p: SourcePatient,
  f: MatchFeatures,
  prior: Prior | undefined,
  d: Decision,
  rem: Remembered,
  ctx: BatchContext,
): Choice | undefined {
  if (d.kind !== 'nhs-number' || prior?.person_id === d.personId || rem.link.has(d.personId))
    return undefined;
  // A day/month swap or a one-digit slip is the typo the matcher tolerates everywhere else: with a
  // verified NHS number it links (each source's birth date stays visible). A conflict is a date
  // within a slip of none of the person's other sources' dates. (Before, any difference went to
  // review: 3 % of the identity bench's records, recall 98.4 %.)
  const dated = (ctx.nhsPersonRecords.get(d.personId) ?? []).filter(
    (r) => r.sourceId !== ctx.sourceId && r.features.birthDate && f.birthDate,
  );
  const others = dated.filter((r) => birthDatesConflict(r.features, f));
  if (others.length === 0 || others.length < dated.length) return undefined;
  // A record waiting already stays, unless its person holds another NHS number than the one it now
  // carries (a source corrected the number): it may not stay there, so it stands alone like a new one.
  const priorHoldsAnother = f.nhsTrusted && prior?.person_nhs != null && prior.person_nhs !== f.nhs;
  if (prior && !priorHoldsAnother)
    return {
      personId: prior.person_id,
      reason: prior.link_reason as LinkReason,
      weight: null,
      mergedFrom: null,
      reviews: [],
    };
  const review = scorePersons(ctx.rules, ctx.sourceId, f, others, rem, ctx.tf).slice(0, 1);
  return {
    personId: randomUUID(),
    reason: 'unverified',
    weight: null,
    mergedFrom: null,
    create: { nhs: null },
    reviews: review,
  };
}

function choose(p: SourcePatient, f: MatchFeatures, prior: Prior | undefined, ctx: BatchContext): Choice {
  const bySource = chooseBySource(p, f, prior, ctx);
  if (bySource) return bySource;
  const rem = ctx.remembered.get(p.localId) ?? { link: new Set<string>(), apart: new Set<string>() };
  const near = ctx.pool.near(f, recordKey(ctx.sourceId, p.localId));
  const scored = scorePersons(ctx.rules, ctx.sourceId, f, near, rem, ctx.tf);
  const d = decideLink(f, f.nhsTrusted ? ctx.personByNhs.get(f.nhs!) : undefined, scored, rem);
  const conflict = chooseOnBirthDateConflict(p, f, prior, d, rem, ctx);
  if (conflict) return conflict;
  const canClaim = (nhs: string | null) => f.nhsTrusted && nhs === null && !ctx.personByNhs.has(f.nhs!);
  if (staysWith(prior, f, d)) {
    const claim = canClaim(prior!.person_nhs);
    const kept = DECIDED.has(prior!.link_reason) || d.kind === 'new' ? prior!.link_reason : 'matched';
    const reason = (claim ? 'nhs-number' : kept) as LinkReason;
    return { personId: prior!.person_id, reason, weight: null, mergedFrom: null, claim, reviews: [] };
  }
  if (d.kind === 'new') {
    const nhs = f.nhsTrusted ? f.nhs! : null;
    const reason = nhs ? 'nhs-number' : 'unverified';
    return {
      personId: randomUUID(),
      reason,
      weight: null,
      mergedFrom: null,
      create: { nhs },
      reviews: d.review,
    };
  }
  const weight = d.kind === 'claim' || d.kind === 'matched' ? d.weight : null;
  const reason = d.kind === 'claim' ? 'nhs-number' : d.kind;
  return { personId: d.personId, reason, weight, mergedFrom: null, claim: d.kind === 'claim', reviews: [] };
}

const keySet = (feats: MatchFeatures[]): KeySet => ({ probes: [...new Set(feats.flatMap(keyProbes))] });

/** What the decisions of `undecided` read (readForDecisions, readOneRecord). */
function decisionQuery(sourceId: string, undecided: SourcePatient[], feats: MatchFeatures[]): DecisionQuery {
  return {
    sourceId,
    localIds: undecided.map((p) => p.localId),
    anyPerson: keySet(feats.filter((f) => !f.nhsTrusted)),
    unnumbered: keySet(feats.filter((f) => f.nhsTrusted)),
    trustedNhs: feats.filter((f) => f.nhsTrusted).map((f) => f.nhs!),
    noValidNhs: feats.every((f) => !isValidNhsNumber(f.nhs)),
    names: feats.flatMap((f) => [
      { field: 'family', value: f.family.join(' ') },
      { field: 'given', value: f.given[0] ?? '' },
    ]),
  };
}

/** A batch's decisions' reads, after their locks; `read` when one record's came with its prior. */
async function loadContext(
  rules: MatchRules,
  tx: Queryable,
  sourceId: string,
  undecided: SourcePatient[],
  feats: MatchFeatures[],
  priors: Map<string, Prior>,
  read?: DecisionReads,
): Promise<BatchContext> {
  let reads = read;
  if (!reads) {
    await lockBlockingKeys(tx, feats.flatMap(lockKeys));
    reads = await readForDecisions(tx, decisionQuery(sourceId, undecided, feats));
  }
  const targets = undecided.map((p) => replacedBy(p.patient, p.localId)).filter((t): t is string => !!t);
  const mergeTargets = new Map(
    targets.length === 0
      ? []
      : (
          await tx.query<{ local_id: string; person_id: string }>(
            'SELECT local_id, person_id FROM person_link WHERE source_id = $1 AND local_id = ANY($2::text[])',
            [sourceId, targets],
          )
        ).rows.map((r) => [r.local_id, r.person_id]),
  );
  const was = [...priors.values()].map((p) => p.merged_from).filter((m): m is string => !!m);
  const live =
    was.length === 0
      ? { rows: [] }
      : await tx.query<{ id: string }>('SELECT id FROM person WHERE id = ANY($1::uuid[])', [was]);
  const nhsPersonRecords = new Map<string, CandidateRecord[]>();
  for (const r of reads.nhsPersonRecords)
    nhsPersonRecords.set(r.personId, [...(nhsPersonRecords.get(r.personId) ?? []), r]);
  return {
    rules,
    sourceId,
    nhsPersonRecords,
    personByNhs: reads.personByNhs,
    // one record's read holds only records that share one of its keys (readOneRecord)
    pool: read ? new OneRecordPool(reads.candidates) : new CandidatePool(reads.candidates),
    remembered: reads.remembered,
    tf: (field, value) => reads.termShares.get(`${field}|${value}`),
    mergeTargets,
    livePersons: new Set(live.rows.map((r) => r.id)),
  };
}

async function decideBatch(
  rules: MatchRules,
  tx: Queryable,
  sourceId: string,
  undecided: SourcePatient[],
  priors: Map<string, Prior>,
  outcomes: Map<string, LinkOutcome>,
  /** the records' features and reads, when they came with the priors (locks taken: readOneRecord) */
  read?: { feats: MatchFeatures[]; reads: DecisionReads },
): Promise<void> {
  const feats = read?.feats ?? undecided.map((p) => featuresOf(p.patient));
  const ctx = await loadContext(rules, tx, sourceId, undecided, feats, priors, read?.reads);
  const newPersons: { id: string; nhs: string | null }[] = [];
  const claims: { id: string; nhs: string }[] = [];
  const links: LinkRow[] = [];
  const reviews: { localId: string; candidate: PersonScore; id: string }[] = [];
  undecided.forEach((p, i) => {
    const f = feats[i]!;
    const prior = priors.get(p.localId);
    const c = choose(p, f, prior, ctx);
    if (c.create) newPersons.push({ id: c.personId, nhs: c.create.nhs });
    if (c.claim) claims.push({ id: c.personId, nhs: f.nhs! });
    if ((c.create?.nhs || c.claim) && f.nhs) ctx.personByNhs.set(f.nhs, c.personId);
    for (const candidate of c.reviews) reviews.push({ localId: p.localId, candidate, id: randomUUID() });
    const personNhs = f.nhsTrusted ? f.nhs! : null;
    // only a record that was already a candidate, or a person taking an NHS number, changes the pool
    if (prior || c.claim) ctx.pool.update(sourceId, p.localId, c.personId, personNhs);
    ctx.pool.add({ sourceId, localId: p.localId, personId: c.personId, personNhs, features: f });
    if (!ctx.mergeTargets.has(p.localId)) ctx.mergeTargets.set(p.localId, c.personId);
    outcomes.set(p.localId, {
      localId: p.localId,
      personId: c.personId,
      reason: c.reason,
      unchanged: false,
      created: !prior,
      ...(prior && prior.person_id !== c.personId ? { previousPersonId: prior.person_id } : {}),
    });
    links.push({
      localId: p.localId,
      personId: c.personId,
      nhs: personNhs,
      reason: c.reason,
      hash: p.contentHash,
      patient: p.patient,
      features: f,
      keys: blockingKeys(f),
      weight: c.weight,
      mergedFrom: c.mergedFrom,
    });
  });
  await claimNhsNumbers(tx, claims);
  await upsertLinks(tx, sourceId, links, newPersons);
  await queueReviews(tx, sourceId, reviews);
}
