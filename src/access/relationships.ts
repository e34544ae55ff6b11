/**
 * Legitimate relationships, derived from the data: which organisations are caring for a person.
 * Each clinical item (and each source's Patient) yields facts such as "registered with GP practice
 * Y90001" or "has an open episode at RX2"; the access decision asks whether the user's
 * organisation has a current one. Facts are written at intake, keyed by the item, so an updated,
 * withdrawn or relinked item updates its relationship too.
 */
import type { Resource } from '@medplum/fhirtypes';
import { readOne, type Fragment, type Queryable } from '../db/index.ts';

export const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';

export type RelationshipKind =
  'registered-gp' | 'encounter' | 'episode' | 'social-care-case' | 'appointment' | 'referral' | 'care-team';

export interface RelationshipFact {
  org: string;
  kind: RelationshipKind;
  /** when it last happened (end of an episode, an appointment's start, a referral's date) */
  at?: string;
  /** still going on: an open episode, a booked appointment, an active referral */
  open: boolean;
}

interface OrgRef {
  reference?: string;
  identifier?: { system?: string; value?: string };
}

function odsOf(ref: OrgRef | undefined): string | undefined {
  return ref?.identifier?.system === ODS && ref.identifier.value ? ref.identifier.value : undefined;
}

const OPEN = {
  Encounter: ['planned', 'arrived', 'triaged', 'in-progress', 'onleave'],
  EpisodeOfCare: ['planned', 'waitlist', 'active', 'onhold'],
  Appointment: ['proposed', 'pending', 'booked', 'arrived', 'checked-in', 'waitlist'],
  ServiceRequest: ['draft', 'active', 'on-hold'],
  CareTeam: ['proposed', 'active', 'suspended'],
} as const;

function isOpen(type: keyof typeof OPEN, status: unknown): boolean {
  return typeof status === 'string' && (OPEN[type] as readonly string[]).includes(status);
}

/**
 * The relationship facts one item establishes. `sourceOrg` is the organisation whose system sent
 * it; `sourceKind` that organisation's kind (a GP practice's own Patient record is registration).
 */
export function relationshipFacts(
  resource: Resource,
  sourceOrg: string,
  sourceKind: string | null,
): RelationshipFact[] {
  const r = resource as unknown as Record<string, unknown> & { status?: string };
  const facts: RelationshipFact[] = [];
  const period = r.period as { start?: string; end?: string } | undefined;
  switch (resource.resourceType) {
    case 'Patient': {
      if (sourceKind === 'gp') facts.push({ org: sourceOrg, kind: 'registered-gp', open: true });
      for (const gp of (r.generalPractitioner as OrgRef[] | undefined) ?? []) {
        const ods = odsOf(gp);
        if (ods) facts.push({ org: ods, kind: 'registered-gp', open: true });
      }
      break;
    }
    case 'Encounter':
      facts.push({
        org: odsOf(r.serviceProvider as OrgRef) ?? sourceOrg,
        kind: 'encounter',
        at: period?.end ?? period?.start,
        open: isOpen('Encounter', r.status),
      });
      break;
    case 'EpisodeOfCare':
      facts.push({
        org: odsOf(r.managingOrganization as OrgRef) ?? sourceOrg,
        kind: sourceKind === 'social-care' ? 'social-care-case' : 'episode',
        at: period?.end ?? period?.start,
        open: isOpen('EpisodeOfCare', r.status),
      });
      break;
    case 'Appointment':
      facts.push({
        org: sourceOrg,
        kind: 'appointment',
        at: (r.end as string | undefined) ?? (r.start as string | undefined),
        open: isOpen('Appointment', r.status),
      });
      break;
    case 'ServiceRequest':
      // A referral relates the person to the organisation it is sent to.
      for (const p of (r.performer as OrgRef[] | undefined) ?? []) {
        const ods = odsOf(p);
        if (ods)
          facts.push({
            org: ods,
            kind: 'referral',
            at: r.authoredOn as string | undefined,
            open: isOpen('ServiceRequest', r.status),
          });
      }
      break;
    case 'CareTeam': {
      const orgs = new Set<string>([sourceOrg]);
      for (const m of (r.managingOrganization as OrgRef[] | undefined) ?? []) {
        const ods = odsOf(m);
        if (ods) orgs.add(ods);
      }
      for (const p of (r.participant as { member?: OrgRef }[] | undefined) ?? []) {
        const ods = odsOf(p.member);
        if (ods) orgs.add(ods);
      }
      for (const org of orgs)
        facts.push({
          org,
          kind: 'care-team',
          at: period?.end ?? period?.start,
          open: isOpen('CareTeam', r.status),
        });
      break;
    }
  }
  return facts;
}

export interface ItemFacts {
  itemId: string;
  personId: string;
  /** empty = the item no longer establishes any relationship (or was deleted) */
  facts: RelationshipFact[];
  /** the item was stored for the first time: it has no facts to replace */
  created?: boolean;
}

/** Replaces the facts of each item (inside the intake transaction). */
export async function recordRelationshipFacts(tx: Queryable, items: ItemFacts[]): Promise<void> {
  if (items.length === 0) return;
  // a bulk load creates most items: probing the facts of each would find nothing to replace
  const replaced = items.filter((i) => !i.created);
  // by key: the people of this chunk of intake (each item's person is known), then their items
  if (replaced.length > 0)
    await tx.query(
      'DELETE FROM relationship_fact WHERE person_id = ANY($2::uuid[]) AND item_id = ANY($1::uuid[])',
      [replaced.map((i) => i.itemId), [...new Set(replaced.map((i) => i.personId))]],
    );
  const rows = items.flatMap((i) => {
    const seen = new Set<string>();
    return i.facts
      .filter((f) => (seen.has(`${f.org}|${f.kind}`) ? false : (seen.add(`${f.org}|${f.kind}`), true)))
      .map((f) => ({
        item_id: i.itemId,
        org_ods: f.org,
        kind: f.kind,
        person_id: i.personId,
        at: f.at ?? null,
        open: f.open,
      }));
  });
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO relationship_fact (item_id, org_ods, kind, person_id, at, open)
     SELECT item_id, org_ods, kind, person_id, at, open
     FROM json_to_recordset($1::json) AS t(item_id uuid, org_ods text, kind text, person_id uuid, at timestamptz, open boolean)`,
    [JSON.stringify(rows)],
  );
}

/** Moves the facts of items to another person (identity relinked their source record). */
export async function reassignRelationshipFacts(
  tx: Queryable,
  moves: { id: string; from: string; to: string }[],
): Promise<void> {
  if (moves.length === 0) return;
  await tx.query(
    `UPDATE relationship_fact f SET person_id = m.to_p
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS m(id, from_p, to_p)
      WHERE f.person_id = m.from_p AND f.item_id = m.id`,
    [moves.map((m) => m.id), moves.map((m) => m.from), moves.map((m) => m.to)],
  );
}

export interface RelationshipSummary {
  kind: RelationshipKind;
  lastAt: string | null;
  open: boolean;
}

/** What relates this person to this organisation (one index lookup; a fragment of a composed read). */
export function relationshipsFragment(org: string): Fragment<RelationshipSummary[]> {
  return {
    sql: (param) =>
      `SELECT coalesce(json_agg(json_build_object('kind', kind, 'lastAt', last_at, 'open', open)), '[]')
       FROM (SELECT kind, max(at) AS last_at, bool_or(open) AS open FROM relationship_fact
             WHERE person_id = $1 AND org_ods = ${param(org)} GROUP BY kind) r`,
    decode: (v) =>
      ((v ?? []) as { kind: RelationshipKind; lastAt: string | null; open: boolean }[]).map((r) => ({
        kind: r.kind,
        lastAt: r.lastAt === null ? null : new Date(r.lastAt).toISOString(),
        open: r.open,
      })),
  };
}

/** What relates this person to this organisation (one index lookup). */
export async function relationshipsWith(
  q: Queryable,
  personId: string,
  org: string,
): Promise<RelationshipSummary[]> {
  return readOne(q, personId, relationshipsFragment(org));
}
