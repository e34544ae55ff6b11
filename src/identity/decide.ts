/**
 * One source record's linking decision, given the candidate records that blocking found: pure,
 * so that the rules (NHS number first, never two different valid NHS numbers, a source's own
 * records never joined, remembered decisions, two thresholds) can be tested by table.
 */
import type { MatchFeatures } from './features.ts';
import { isValidNhsNumber } from './nhs-number.ts';
import type { MatchRules } from './rules.ts';
import { scorePair, type MatchScore, type TermFrequency } from './score.ts';

export interface CandidateRecord {
  sourceId: string;
  localId: string;
  personId: string;
  /**
   * the NHS number the person is known by (from a trusted source record); undefined when not read:
   * the decision for a record without a valid NHS number does not look at it
   */
  personNhs: string | null | undefined;
  features: MatchFeatures;
}

export interface Remembered {
  /** persons an administrator linked this record to */
  link: Set<string>;
  /** source records ("source|local") an administrator kept apart from this one */
  apart: Set<string>;
}

export interface PersonScore {
  personId: string;
  /** the person's record that matched best */
  best: CandidateRecord;
  score: MatchScore;
  /** an automatic link is not allowed (another valid NHS number, or the same source) */
  blocked: boolean;
}

export type Decision =
  | { kind: 'nhs-number'; personId: string }
  | { kind: 'claim'; personId: string; weight: number }
  | { kind: 'matched'; personId: string; weight: number }
  | { kind: 'remembered'; personId: string }
  | { kind: 'new'; review: PersonScore[] };

export const recordKey = (sourceId: string, localId: string): string => `${sourceId}|${localId}`;

function validNhs(f: MatchFeatures): string | null {
  return f.nhs && isValidNhsNumber(f.nhs) ? f.nhs : null;
}

/** Each candidate person's best record against the incoming one, best person first. */
export function scorePersons(
  rules: MatchRules,
  sourceId: string,
  incoming: MatchFeatures,
  candidates: CandidateRecord[],
  remembered: Remembered,
  tf?: TermFrequency,
): PersonScore[] {
  const byPerson = new Map<string, CandidateRecord[]>();
  for (const c of candidates) {
    const list = byPerson.get(c.personId);
    if (list) list.push(c);
    else byPerson.set(c.personId, [c]);
  }
  const nhs = validNhs(incoming);
  const out: PersonScore[] = [];
  for (const [personId, records] of byPerson) {
    if (records.some((r) => remembered.apart.has(recordKey(r.sourceId, r.localId)))) continue;
    const blocked = records.some(
      (r) =>
        r.sourceId === sourceId ||
        (nhs !== null && ((r.personNhs && r.personNhs !== nhs) || (validNhs(r.features) ?? nhs) !== nhs)),
    );
    let best: PersonScore | undefined;
    for (const r of records) {
      const score = scorePair(rules, incoming, r.features, tf);
      if (!best || score.weight > best.score.weight) best = { personId, best: r, score, blocked };
    }
    out.push(best!);
  }
  return out.sort((a, b) => b.score.weight - a.score.weight);
}

/**
 * The decision for one record. A trusted NHS number that a person already has links to that
 * person; otherwise the best candidate at the link level, when no other candidate is also at it,
 * links (and a trusted NHS number is claimed by a person that had none). Everything between the
 * thresholds goes to review while the record stands as a person of its own.
 */
export function decideLink(
  incoming: MatchFeatures,
  personWithNhs: string | undefined,
  scored: PersonScore[],
  remembered: Remembered,
  maxReview = 3,
): Decision {
  if (incoming.nhsTrusted && personWithNhs) return { kind: 'nhs-number', personId: personWithNhs };
  const forced = [...remembered.link].find((p) => scored.some((s) => s.personId === p && !s.blocked));
  if (forced) return { kind: 'remembered', personId: forced };
  const usable = scored.filter((s) => !s.blocked && (!incoming.nhsTrusted || s.best.personNhs === null));
  const links = usable.filter((s) => s.score.decision === 'link');
  if (links.length === 1) {
    const [top] = links;
    return incoming.nhsTrusted
      ? { kind: 'claim', personId: top!.personId, weight: top!.score.weight }
      : { kind: 'matched', personId: top!.personId, weight: top!.score.weight };
  }
  // persons with another valid NHS number, or holding a record of the same source, are other people
  const review = usable.filter((s) => s.score.decision !== 'apart').slice(0, maxReview);
  return { kind: 'new', review };
}
