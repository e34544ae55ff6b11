/**
 * One read, checked against the oracle. A read is a GET on a read path as one reader; the answer
 * must have the status the oracle expects, return exactly the clinical items it allows (an extra one
 * is a leak; a missing one is over-withholding, reported apart), and nowhere in the body (entries,
 * OperationOutcome notices, Consent resources, error texts) show: a never-shared code, its display,
 * a category name or a listed organisation; the id of a never-shared item; the distinctive text or
 * source id of any item it does not allow; the person's demographics when they are not allowed; a
 * restricted person's address. Notices must say that this is not the full record, name each
 * objection in force, and say when access is by break glass.
 */
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { ReadSpec } from './arbitraries.ts';
import { CATEGORIES, LISTED, ORGS, orgOfSource, OUTSIDE_CLINIC, type Code } from './catalogue.ts';
import { codeParamOf, ITEM_TYPES, statusParamOf, TYPE_NAMES, type ItemType } from './fhir.ts';
import { accessToNobody, dateBounds, label, neverShared, visibleTo, type Visible } from './oracle.ts';
import { RESTRICTED_POSTCODE } from './fhir.ts';
import type { Harness } from './harness.ts';
import { describeReader, nextNhsNumber, type ItemModel, type PersonModel, type World } from './region.ts';

export type FindingKind =
  | 'leak: item returned'
  | 'leak: text of a withheld item'
  | 'leak: id of a never-shared item'
  | 'leak: never-shared code, category or organisation'
  | 'leak: demographics'
  | 'wrong status'
  | 'notice missing'
  | 'consents'
  | 'over-withheld: allowed item not returned'
  | 'paging: an item on two pages'
  | 'setup';

export interface Finding {
  kind: FindingKind;
  /** the read path, e.g. GET /fhir/Consent */
  where: string;
  detail: string;
}

const ROUTE: Record<ReadSpec['path'], string> = {
  'patient-search': 'GET /fhir/Patient?identifier',
  'patient-read': 'GET /fhir/Patient/{id}',
  everything: 'GET /fhir/Patient/{id}/$everything',
  'everything-paged': 'GET /fhir/Patient/{id}/$everything?_count (every next link)',
  summary: 'GET /fhir/Patient/{id}/$summary',
  reconciled: 'GET /fhir/Patient/{id}/$reconciled',
  section: 'GET /fhir/{Type}?patient',
  'section-include': 'GET /fhir/{Type}?patient&_include=*',
  'pdqm-name': 'GET /fhir/Patient?family&given&birthdate',
  'pdqm-postcode': 'GET /fhir/Patient?birthdate&address-postalcode',
  consent: 'GET /fhir/Consent?patient',
  item: 'GET /fhir/{Type}/{id}',
};

interface Expected {
  status: number;
  items: Set<ItemModel>;
  /** only some of the allowed items are chosen ($summary): a missing one is not a finding */
  subset?: boolean;
  demographics: boolean;
  notices?: { objections: number; breakGlass: boolean };
  consents?: number;
}

const CLINICAL = new Set<string>(TYPE_NAMES);
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const SENSITIVE_ORGS = [...ORGS.filter((o) => o.neverShared), OUTSIDE_CLINIC].flatMap((o) => [o.ods, o.name]);

/** What a world forbids everywhere, computed once per region. */
export interface Forbidden {
  never: Map<PersonModel, Map<ItemModel, string>>;
  byId: Map<string, { item: ItemModel; person: PersonModel }>;
  tokens: RegExp;
  sensitive: RegExp;
}

export function forbiddenIn(world: World): Forbidden {
  const never = new Map(world.persons.map((p) => [p, neverShared(p)]));
  const byId = new Map(
    world.persons.flatMap((p) => p.items.map((item) => [item.id, { item, person: p }] as const)),
  );
  const used = world.persons.flatMap((p) => p.items.flatMap((i) => i.codes.filter((c) => c.neverShared)));
  const strings = new Set([
    ...[...LISTED, ...used].flatMap((c) => [c.code, c.display]),
    ...CATEGORIES,
    ...SENSITIVE_ORGS,
  ]);
  return {
    never,
    byId,
    tokens: new RegExp(`(LK|Fam|Addr)?${world.tag}p(\\d+)(?:i(\\d+)|s(\\d+))?`, 'g'),
    sensitive: new RegExp(
      `(?<![A-Za-z0-9-])(?:${[...strings]
        .sort((a, b) => b.length - a.length)
        .map(escape)
        .join('|')})(?![A-Za-z0-9-])`,
      'g',
    ),
  };
}

/**
 * The search's type and code, where the read names them by one of the person's items; for a read of
 * one item, that item (none: a type named outright, read with an id that names nothing).
 */
type Concrete = ReadSpec & { type: ItemType; code: Code | null; item: ItemModel | undefined };

function concrete(read: ReadSpec, person: PersonModel | undefined): Concrete {
  const item = (k: number) => person?.items[k % Math.max(1, person.items.length)];
  const type = typeof read.type === 'number' ? (item(read.type)?.type ?? 'Observation') : read.type;
  const code = typeof read.code === 'number' ? (item(read.code)?.codes[0] ?? null) : read.code;
  const target = read.path === 'item' && typeof read.type === 'number' ? item(read.type) : undefined;
  return { ...read, type, code, item: target };
}

function expectedFor(
  world: World,
  read: Concrete,
  person: PersonModel | undefined,
  v: Visible | undefined,
): Expected {
  const none = { items: new Set<ItemModel>(), demographics: false };
  const reader = world.readers[read.reader % world.readers.length]!;
  // a read of one item finds its person through the item: a removed item, or none, finds nobody
  const nobody = read.path === 'item' && (!read.item || read.item.deleted);
  // to a search by NHS number, a person known only to never-shared organisations is nobody: that a
  // sexual-health service knows them must not show, even as a refusal to a session bound elsewhere
  const unseen =
    read.path === 'patient-search' && !!person && person.sources.every((id) => orgOfSource(id).neverShared);
  if (!person || !v || nobody || unseen) {
    if (accessToNobody(reader) === 'refused') return { status: 403, ...none };
    return { status: read.path === 'patient-search' ? 200 : 404, ...none };
  }
  if (!v.access.allowed) {
    // a search by NHS number, or a read by id from a session launched for this person (both know
    // the NHS number), answers with the record's id and NHS number only
    const idOnly =
      v.access.code === 'no-relationship' &&
      (read.path === 'patient-search' || (read.path === 'patient-read' && reader.boundToNhs === person.nhs));
    // a read of one item, or of a Patient by id, must not tell whose it is: refused for this person = not found
    const aboutThisPerson = ['no-relationship', 'other-patient-in-context'].includes(v.access.code);
    if ((read.path === 'item' || read.path === 'patient-read') && aboutThisPerson && !idOnly)
      return { status: 404, ...none };
    return { status: idOnly ? 200 : 403, ...none };
  }
  const notices = {
    objections: person.objections.filter((o) => !o.withdrawn).length,
    breakGlass: v.access.breakGlass,
  };
  const items = v.recordWithheld ? new Set<ItemModel>() : v.items;
  // Demographics come only from records at organisations that may be named: a person known only to
  // a never-shared organisation (a sexual-health service) shows no name, address or identifiers.
  const demographics = !v.recordWithheld && person.sources.some((id) => !orgOfSource(id).neverShared);
  switch (read.path) {
    case 'patient-search':
      return { status: 200, items: new Set(), demographics, notices };
    case 'patient-read':
      return { status: 200, items: new Set(), demographics };
    case 'everything':
    case 'reconciled':
      return { status: 200, items, demographics, notices };
    case 'everything-paged':
      // every page carries the notices: checked on the unpaged read
      return { status: 200, items, demographics };
    case 'summary':
      return { status: 200, items, demographics, subset: true };
    case 'pdqm-name':
    case 'pdqm-postcode':
      throw new Error('the demographic searches are checked by performPdqm');
    case 'consent':
      return { status: 200, ...none, consents: person.objections.length };
    case 'item':
      // withheld, objected to or outside the reader's sections: exactly as if it did not exist
      return items.has(read.item!)
        ? { status: 200, items: new Set([read.item!]), demographics: false }
        : { status: 404, ...none };
    case 'section':
    case 'section-include': {
      const { from, to } = dateBounds(read.dates.map((d) => ({ prefix: d.prefix, day: day(world, d.days) })));
      const hit = (i: ItemModel) =>
        i.type === read.type &&
        (from === undefined || (i.when !== undefined && Date.parse(i.when) >= from)) &&
        (to === undefined || (i.when !== undefined && Date.parse(i.when) < to)) &&
        (read.statuses.length === 0 || read.statuses.includes(i.status)) &&
        (!read.code ||
          !codeParamOf(read.type) ||
          i.searchCodes.includes(`${read.code.system}|${read.code.code}`));
      return { status: 200, items: new Set([...items].filter(hit)), demographics: false, notices };
    }
  }
}

const day = (world: World, days: number) =>
  new Date(world.now + days * 86_400_000).toISOString().slice(0, 10);

function urlOf(world: World, read: Concrete, person: PersonModel | undefined): string {
  const id = person?.id ?? '00000000-0000-4000-8000-0000000000aa';
  switch (read.path) {
    case 'patient-search':
      return `/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${person?.nhs ?? nextNhsNumber()}`;
    case 'patient-read':
      return `/fhir/Patient/${id}`;
    case 'everything':
      return `/fhir/Patient/${id}/$everything`;
    case 'everything-paged':
      return `/fhir/Patient/${id}/$everything?_count=${1 + (read.dates.length + read.statuses.length) * 2}`;
    case 'summary':
      return `/fhir/Patient/${id}/$summary`;
    case 'pdqm-name':
      return `/fhir/Patient?family=Fam${world.tag}p${person?.n ?? 99}&given=Sam&birthdate=1980-06-15`;
    case 'pdqm-postcode':
      return `/fhir/Patient?birthdate=1980-06-15&address-postalcode=${encodeURIComponent(RESTRICTED_POSTCODE)}`;
    case 'reconciled':
      return `/fhir/Patient/${id}/$reconciled`;
    case 'consent':
      return `/fhir/Consent?patient=${id}`;
    case 'item':
      return `/fhir/${read.item?.type ?? read.type}/${read.item?.id ?? '00000000-0000-4000-8000-0000000000ab'}`;
    case 'section':
    case 'section-include': {
      const q = [`patient=${id}`, ...read.dates.map((d) => `date=${d.prefix}${day(world, d.days)}`)];
      if (read.statuses.length) q.push(`${statusParamOf(read.type)}=${read.statuses.join(',')}`);
      const codeParam = codeParamOf(read.type)?.name;
      if (read.code && codeParam)
        q.push(`${codeParam}=${encodeURIComponent(`${read.code.system}|${read.code.code}`)}`);
      if (read.path === 'section-include') q.push('_include=*');
      return `/fhir/${read.type}?${q.join('&')}`;
    }
  }
}

const demographicsAllowed = (of: PersonModel | Set<PersonModel> | undefined, p: PersonModel) =>
  of instanceof Set ? of.has(p) : of === p;

/** Scans a body for what the world forbids; `allowed` says which items and whose demographics may show. */
export function scan(
  text: string,
  world: World,
  f: Forbidden,
  allowed: {
    items: Set<ItemModel>;
    demographicsOf?: PersonModel | Set<PersonModel>;
    readerOrg?: string;
    register?: boolean;
  },
): Omit<Finding, 'where'>[] {
  const out = new Map<string, Omit<Finding, 'where'>>();
  for (const m of text.matchAll(f.tokens)) {
    const p = world.persons[Number(m[2])];
    if (!p) continue;
    const item = m[3] === undefined ? undefined : p.items[Number(m[3])];
    if (item && !allowed.items.has(item)) {
      const why = f.never.get(p)!.get(item) ?? 'not allowed to this reader on this read';
      out.set(m[0], {
        kind: 'leak: text of a withheld item',
        detail: `${m[0]} of ${label(item)} of person ${p.n} (${why})`,
      });
    } else if (!item && (m[1] === 'Addr' || !demographicsAllowed(allowed.demographicsOf, p)))
      out.set(m[0], {
        kind: 'leak: demographics',
        detail: `${m[1] === 'Addr' ? "a restricted person's address" : 'a demographic detail'} ${m[0]} of person ${p.n}`,
      });
  }
  for (const [id] of text.matchAll(UUID)) {
    const hit = f.byId.get(id);
    if (!hit || allowed.register) continue;
    const why = f.never.get(hit.person)!.get(hit.item);
    if (why && !hit.item.deleted)
      out.set(id, {
        kind: 'leak: id of a never-shared item',
        detail: `${label(hit.item)} (${id}) of person ${hit.person.n}: ${why}`,
      });
  }
  const own = ORGS.find((o) => o.ods === allowed.readerOrg);
  for (const [s] of text.matchAll(f.sensitive)) {
    if (own && (s === own.ods || s === own.name)) continue;
    if (allowed.register && SENSITIVE_ORGS.includes(s)) continue;
    const at = text.indexOf(s);
    out.set(`s:${s}`, {
      kind: 'leak: never-shared code, category or organisation',
      detail: `"${s}" in …${text.slice(Math.max(0, at - 120), at + 60)}…`,
    });
  }
  return [...out.values()];
}

/** How much the reads exercised: reads answered with access, and clinical items they returned. */
export const coverage = { reads: 0, withAccess: 0, itemsReturned: 0, refused: {} as Record<string, number> };
export function resetCoverage(): void {
  Object.assign(coverage, { reads: 0, withAccess: 0, itemsReturned: 0, refused: {} });
}

export async function performRead(
  h: Harness,
  world: World,
  f: Forbidden,
  spec: ReadSpec,
): Promise<Finding[]> {
  const reader = world.readers[spec.reader % world.readers.length]!;
  const person = spec.unknownPerson ? undefined : world.persons[spec.person % world.persons.length];
  const read = concrete(spec, person);
  if (read.path === 'pdqm-name' || read.path === 'pdqm-postcode')
    return performPdqm(h, world, f, read, person);
  const v = person && visibleTo(reader, person, world.now);
  const want = expectedFor(world, read, person, v);
  const url = urlOf(world, read, person);
  const res = await h.call('GET', url, reader.token);
  const pages = read.path === 'everything-paged' ? await followNext(h, res, reader.token) : [];
  const texts = [res.text, ...pages.map((p) => p.text)];
  const at = `GET ${url.replace(world.tag, '…')} by ${describeReader(reader)}${person ? ` of person ${person.n}` : ' (nobody)'}`;
  const findings: Finding[] = [];
  const add = (kind: FindingKind, detail: string) =>
    findings.push({ kind, where: ROUTE[read.path], detail: `${at}: ${detail}` });
  if (res.status !== want.status)
    add('wrong status', `answered ${res.status}, expected ${want.status}: ${res.text.slice(0, 300)}`);

  const entries = texts.flatMap((text) => {
    const body = text ? (JSON.parse(text) as Resource) : undefined;
    return body?.resourceType === 'Bundle'
      ? ((body as Bundle).entry ?? []).map((e) => e.resource!)
      : body
        ? [body]
        : [];
  });
  const returned = entries.filter((r) => CLINICAL.has(r.resourceType));
  const once = new Set<string>();
  for (const r of returned)
    if (once.has(r.id!)) add('paging: an item on two pages', `${r.resourceType}/${r.id}`);
    else once.add(r.id!);
  for (const r of returned) {
    const hit = f.byId.get(r.id!);
    if (!hit) add('leak: item returned', `${r.resourceType}/${r.id}, not an item of this region`);
    else if (!want.items.has(hit.item)) {
      const why =
        hit.person !== person
          ? `an item of person ${hit.person.n}`
          : (v?.hidden.get(hit.item) ?? `outside the search (${ITEM_TYPES[hit.item.type].section})`);
      add('leak: item returned', `${label(hit.item)}: ${why}`);
    }
  }
  const ids = new Set(returned.map((r) => r.id));
  coverage.reads++;
  if (v && !v.access.allowed) coverage.refused[v.access.code] = (coverage.refused[v.access.code] ?? 0) + 1;
  if (v?.access.allowed) coverage.withAccess++;
  coverage.itemsReturned += returned.length;
  if (!want.subset)
    for (const i of want.items)
      if (!ids.has(i.id)) add('over-withheld: allowed item not returned', `${label(i)} ${i.id}`);

  for (const x of scan(texts.join('\n'), world, f, {
    items: want.items,
    ...(want.demographics ? { demographicsOf: person } : {}),
    readerOrg: reader.org,
  }))
    add(x.kind, x.detail);
  if (want.demographics && person && !res.text.includes(`Fam${world.tag}p${person.n}`))
    add('over-withheld: allowed item not returned', "the person's demographics");

  if (want.notices && res.status === 200) {
    const issues = entries
      .filter((r): r is OperationOutcome => r.resourceType === 'OperationOutcome')
      .flatMap((o) => o.issue.map((i) => i.diagnostics ?? ''));
    if (!issues.some((d) => /not the full record/.test(d)))
      add('notice missing', 'no notice that this is not the full record');
    const objections = issues.filter((d) => /objected/.test(d)).length;
    if (objections !== want.notices.objections)
      add(
        'notice missing',
        `${objections} objection notices for ${want.notices.objections} objections in force`,
      );
    if (issues.some((d) => /break glass/i.test(d)) !== want.notices.breakGlass)
      add(
        'notice missing',
        `break-glass notice ${want.notices.breakGlass ? 'missing' : 'shown without break glass'}`,
      );
  }
  if (want.consents !== undefined && res.status === 200) {
    const n = entries.filter((r) => r.resourceType === 'Consent').length;
    if (n !== want.consents) add('consents', `${n} Consent resources for ${want.consents} objections`);
  }
  return findings;
}

/** The pages after the first, by the Bundle's next links, to the end. */
async function followNext(
  h: Harness,
  first: { status: number; text: string },
  token: string,
): Promise<{ status: number; text: string }[]> {
  const pages: { status: number; text: string }[] = [];
  let page = first;
  while (page.status === 200 && pages.length < 500) {
    const next = (JSON.parse(page.text) as Bundle).link?.find((l) => l.relation === 'next')?.url;
    if (!next) break;
    const u = new URL(next);
    page = await h.call('GET', `${u.pathname}${u.search}`, token);
    pages.push(page);
  }
  return pages;
}

/**
 * The Patient search by demographics (IHE PDQm), by name and birth date, and by birth date and the
 * postcode of a restricted person's address: only people the reader may see are found, and a person
 * whose address is restricted is never found by it (that would confirm where they live).
 */
async function performPdqm(
  h: Harness,
  world: World,
  f: Forbidden,
  read: Concrete,
  person: PersonModel | undefined,
): Promise<Finding[]> {
  const reader = world.readers[read.reader % world.readers.length]!;
  const url = urlOf(world, read, person);
  const res = await h.call('GET', url, reader.token);
  const at = `GET ${url.replace(world.tag, '…')} by ${describeReader(reader)}`;
  const findings: Finding[] = [];
  const add = (kind: FindingKind, detail: string) =>
    findings.push({ kind, where: ROUTE[read.path], detail: `${at}: ${detail}` });
  const findable = new Set<PersonModel>();
  const shown = new Set<PersonModel>();
  const candidates = read.path === 'pdqm-name' ? (person ? [person] : []) : [];
  for (const p of candidates) {
    const v = visibleTo(reader, p, world.now);
    if (!v.access.allowed || !p.sources.some((id) => !orgOfSource(id).neverShared)) continue;
    findable.add(p);
    if (!v.recordWithheld) shown.add(p);
  }
  if (res.status !== 200 && res.status !== 403)
    add('wrong status', `answered ${res.status}: ${res.text.slice(0, 300)}`);
  const found =
    res.status === 200
      ? ((JSON.parse(res.text) as Bundle).entry ?? [])
          .map((e) => e.resource!)
          .filter((r) => r.resourceType === 'Patient')
      : [];
  const byId = new Map(world.persons.map((p) => [p.id, p]));
  for (const r of found) {
    const p = byId.get(r.id!);
    if (!p || !findable.has(p))
      add('leak: demographics', `found person ${p ? p.n : r.id}, whom this search must not find`);
  }
  for (const p of findable)
    if (res.status === 200 && !found.some((r) => r.id === p.id))
      add('over-withheld: allowed item not returned', `person ${p.n} not found`);
  // the self link repeats the name searched for: what was found is in the entries
  const answer = res.status === 200 ? JSON.stringify((JSON.parse(res.text) as Bundle).entry ?? []) : res.text;
  for (const x of scan(answer, world, f, { items: new Set(), demographicsOf: shown, readerOrg: reader.org }))
    add(x.kind, x.detail);
  return findings;
}

/**
 * The data protection officer's reads of a person: the objection register and the access report.
 * They name objections (organisations and items included: that is the register) but never show
 * clinical content, demographics, never-shared codes or categories.
 */
export async function performDpoReads(
  h: Harness,
  world: World,
  f: Forbidden,
): Promise<{ reads: number; findings: Finding[] }> {
  const findings: Finding[] = [];
  let reads = 0;
  for (const p of world.persons) {
    for (const url of [`/admin/objections?nhs=${p.nhs}&all=true`, `/dpo/access-report?person=${p.nhs}`]) {
      reads++;
      const res = await h.call('GET', url, h.dpoToken);
      const where = `GET ${url.split('?')[0]}`;
      if (res.status !== 200)
        findings.push({
          kind: 'wrong status',
          where,
          detail: `GET ${url} as the DPO answered ${res.status}`,
        });
      for (const x of scan(res.text, world, f, { items: new Set(), register: true }))
        findings.push({ kind: x.kind, where, detail: `GET ${url} as the DPO: ${x.detail}` });
    }
  }
  return { reads, findings };
}
