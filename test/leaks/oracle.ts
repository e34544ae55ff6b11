/**
 * The oracle: what a reader may be shown of a person, written from the promises (README "The one
 * gate", issue 4, docs/access-decisions.md) over the test's own description of the region. It calls
 * nothing in src/: the sensitive codes are those the catalogue marks never-shared, the link rule is
 * the table in fhir.ts, relationships come from the items as sent.
 *
 * - Access: the reader's organisation takes part and views; the role is one that reads records; a
 *   session launched for one patient opens only that one; and the organisation has a legitimate
 *   relationship (registered GP; an open, future or recent (365 days) encounter, episode, social-care
 *   case, appointment, referral or care team there), or the reader broke the glass for this person.
 * - Never shared, to anyone: an item with a listed code, a never-shared label, from or naming a listed
 *   organisation; an item that depends on such an item; a part of such an item (the result of a
 *   withheld report) — transitively. The parent of a withheld part is not withheld by it.
 * - Objections upheld for this reader (not withdrawn, and no override in force for the reader's
 *   organisation or for all): the whole record (nothing but that it exists), one organisation's
 *   data, a section, an item.
 * - The role's sections only.
 */
import { ORGS, ROLES, SECTIONS_OF, orgOfSource, type RoleKind } from './catalogue.ts';
import { ITEM_TYPES, LINK_KIND } from './fhir.ts';
import type { ItemModel, ObjectionModel, PersonModel, ReaderModel } from './region.ts';

export const HORIZON_DAYS = 365;

export type Access =
  | { allowed: true; kind: RoleKind; sections: readonly string[]; breakGlass: boolean }
  | { allowed: false; code: string };

const OPEN: Record<string, readonly string[]> = {
  Encounter: ['planned', 'arrived', 'triaged', 'in-progress', 'onleave'],
  EpisodeOfCare: ['planned', 'waitlist', 'active', 'onhold'],
  Appointment: ['proposed', 'pending', 'booked', 'arrived', 'checked-in', 'waitlist'],
  ServiceRequest: ['draft', 'active', 'on-hold'],
  CareTeam: ['proposed', 'active', 'suspended'],
};

/** The organisations an item relates the person to (what care it records, and where). */
function relatesTo(i: ItemModel): string[] {
  const from = i.sourceOrg.ods;
  switch (i.type) {
    case 'Encounter':
    case 'EpisodeOfCare':
      return [i.names ?? from];
    case 'Appointment':
      return [from];
    case 'ServiceRequest':
      return i.names ? [i.names] : [];
    case 'CareTeam':
      return [...new Set([from, ...(i.names ? [i.names] : [])])];
    default:
      return [];
  }
}

export function hasRelationship(p: PersonModel, org: string, now: number): boolean {
  const registered =
    p.sources.some((s) => orgOfSource(s).kind === 'gp' && orgOfSource(s).ods === org) || p.namedGp === org;
  if (registered) return true;
  const horizon = now - HORIZON_DAYS * 86_400_000;
  return p.items.some(
    (i) =>
      !i.deleted &&
      relatesTo(i).includes(org) &&
      ((OPEN[i.type] ?? []).includes(i.status) || (i.when !== undefined && Date.parse(i.when) >= horizon)),
  );
}

/** Access before break glass is considered (what break glass itself is decided on). */
function baseAccess(
  r: ReaderModel,
  nhs: string | undefined,
): Access | { allowed: 'if-related'; kind: RoleKind } {
  const org = ORGS.find((o) => o.ods === r.org);
  if (!org) return { allowed: false, code: 'org-unknown' };
  if (!org.views) return { allowed: false, code: 'org-not-viewing' };
  const kind = ROLES[r.role];
  if (!kind) return { allowed: false, code: 'role-unknown' };
  if (kind === 'dpo' || kind === 'admin') return { allowed: false, code: 'role-not-clinical' };
  if (r.boundToNhs && r.boundToNhs !== nhs) return { allowed: false, code: 'other-patient-in-context' };
  return { allowed: 'if-related', kind };
}

export function accessOf(r: ReaderModel, p: PersonModel, now: number): Access {
  const a = baseAccess(r, p.nhs);
  if (a.allowed !== 'if-related') return a;
  const sections = SECTIONS_OF[a.kind];
  if (hasRelationship(p, r.org, now)) return { allowed: true, kind: a.kind, sections, breakGlass: false };
  if (r.breakGlass.has(p.n)) return { allowed: true, kind: a.kind, sections, breakGlass: true };
  return { allowed: false, code: 'no-relationship' };
}

/** The refusal for a person who does not exist, when the reader could otherwise ask. */
export function accessToNobody(r: ReaderModel): 'refused' | 'not-found' {
  const a = baseAccess(r, undefined);
  return a.allowed === false && a.code !== 'other-patient-in-context' ? 'refused' : 'not-found';
}

/** The status of POST $break-glass: refused unless only the relationship is missing; reason checked. */
export function breakGlassStatus(r: ReaderModel, p: PersonModel, validReason: boolean, now: number): number {
  const a = accessOf(r, p, now);
  if (!a.allowed && a.code !== 'no-relationship') return 403;
  return validReason ? 200 : 400;
}

/** Why an item is withheld from everyone, or undefined if it is not. */
export function neverShared(p: PersonModel): Map<ItemModel, string> {
  const why = new Map<ItemModel, string>();
  for (const i of p.items) {
    const own =
      i.codes.find((c) => c.neverShared)?.why ??
      (i.labels.some((l) => l.neverShared)
        ? `security label ${i.labels.find((l) => l.neverShared)!.code}`
        : undefined) ??
      (i.sourceOrg.neverShared ? `sent by ${i.sourceOrg.ods}, a listed organisation` : undefined) ??
      (i.names && (i.names === 'SHX99' || ORGS.find((o) => o.ods === i.names)?.neverShared)
        ? `names ${i.names}, a listed organisation`
        : undefined);
    if (own) why.set(i, own);
  }
  // Follow links from every withheld item that is not itself withdrawn: to what depends on it, and
  // to its parts. Items withdrawn in error do not withhold anything.
  const queue = [...why.keys()].filter((i) => !i.deleted);
  const reached = new Set<ItemModel>(queue);
  while (queue.length > 0) {
    const w = queue.shift()!;
    const next: [ItemModel, string][] = [];
    for (const i of p.items)
      for (const l of i.links) {
        if (LINK_KIND[l.element] === 'depends-on' && l.to === w.n)
          next.push([i, `${l.element} → ${label(w)}`]);
        if (LINK_KIND[l.element] === 'contains' && i === w)
          next.push([p.items[l.to]!, `part of ${label(w)}`]);
      }
    for (const [i, how] of next) {
      if (reached.has(i)) continue;
      reached.add(i);
      queue.push(i);
      if (!why.has(i)) why.set(i, `${how} (${why.get(w)})`);
    }
  }
  return why;
}

export const label = (i: ItemModel) => `${i.type} ${i.localId}`;

export function upheld(p: PersonModel, readerOrg: string): ObjectionModel[] {
  return p.objections.filter(
    (o) =>
      !o.withdrawn && !o.overrides.some((v) => !v.ended && (v.forOrg === null || v.forOrg === readerOrg)),
  );
}

export interface Visible {
  access: Access;
  /** a whole-record objection is upheld: only that the record exists */
  recordWithheld: boolean;
  items: Set<ItemModel>;
  /** why each item of the person that is not shown is not shown */
  hidden: Map<ItemModel, string>;
}

export function visibleTo(r: ReaderModel, p: PersonModel, now: number): Visible {
  const access = accessOf(r, p, now);
  const objections = upheld(p, r.org);
  const recordWithheld = objections.some((o) => o.scope === 'record');
  const never = neverShared(p);
  const items = new Set<ItemModel>();
  const hidden = new Map<ItemModel, string>();
  for (const i of p.items) {
    const section = ITEM_TYPES[i.type].section;
    const objection = objections.find(
      (o) =>
        o.scope === 'record' ||
        (o.scope === 'organisation' && o.target === i.sourceOrg.ods) ||
        (o.scope === 'category' && o.target === section) ||
        (o.scope === 'item' && o.target === i.id),
    );
    const why = !access.allowed
      ? `access refused (${access.code})`
      : i.deleted
        ? 'entered in error'
        : never.has(i)
          ? `never shared: ${never.get(i)}`
          : objection
            ? `objection to ${objection.scope} ${objection.target ?? ''} upheld`
            : !access.sections.includes(section)
              ? `the ${r.role} role does not see ${section}`
              : undefined;
    if (why) hidden.set(i, why);
    else items.add(i);
  }
  return { access, recordWithheld, items, hidden };
}

/**
 * FHIR date search (R4) of a day against an item's dateTime (never midnight), as a half-open range
 * [from, to): eq the day, ge from its start, gt from the next day, le up to the next day, lt up to
 * its start. Repeated values must all hold.
 */
export function dateBounds(dates: { prefix: string; day: string }[]): { from?: number; to?: number } {
  const b: { from?: number; to?: number } = {};
  const from = (t: number) => (b.from = Math.max(b.from ?? -Infinity, t));
  const to = (t: number) => (b.to = Math.min(b.to ?? Infinity, t));
  for (const d of dates) {
    const t = Date.parse(`${d.day}T00:00:00Z`);
    const next = t + 86_400_000;
    if (d.prefix === 'eq') {
      from(t);
      to(next);
    }
    if (d.prefix === 'ge') from(t);
    if (d.prefix === 'gt') from(next);
    if (d.prefix === 'le') to(next);
    if (d.prefix === 'lt') to(t);
  }
  return b;
}
