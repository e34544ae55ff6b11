/**
 * Sends a generated region to a running Sharedcare through its real HTTP API, as the region's
 * systems and staff would: each source posts a batch of its Patients and items (source tokens),
 * administrators and the data protection officer record, override, end and withdraw objections,
 * and readers break the glass. Returns the model the oracle reads: what was sent, under which ids.
 */
import { randomBytes } from 'node:crypto';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { RegionSpec, When } from './arbitraries.ts';
import { ORGS, OUTSIDE_CLINIC, SOURCES, orgOfSource, type Code, type Label, type Org } from './catalogue.ts';
import { searchCodesIn, ITEM_TYPES, itemResource, patientResource, type ItemType } from './fhir.ts';
import type { Harness } from './harness.ts';
import { breakGlassStatus } from './oracle.ts';

export interface ItemModel {
  /** index in the person's items */
  n: number;
  type: ItemType;
  localId: string;
  id: string;
  source: string;
  sourceOrg: Org;
  codes: Code[];
  labels: Label[];
  names: string | undefined;
  status: string;
  deleted: boolean;
  when: string | undefined;
  /** resolved links: element → index of the linked item */
  links: { element: string; to: number }[];
  /** every system|code in the item as sent (what `code=` matches) */
  searchCodes: string[];
  /** what the second delivery changed, if the source sent the item again */
  revised: string | undefined;
}

export interface OverrideModel {
  forOrg: string | null;
  ended: boolean;
}

export interface ObjectionModel {
  id: string;
  scope: 'record' | 'organisation' | 'category' | 'item';
  target: string | undefined;
  withdrawn: boolean;
  overrides: OverrideModel[];
}

export interface PersonModel {
  n: number;
  nhs: string;
  id: string;
  sources: string[];
  namedGp: string | undefined;
  restricted: boolean;
  items: ItemModel[];
  objections: ObjectionModel[];
}

export interface ReaderModel {
  n: number;
  userId: string;
  role: string;
  org: string;
  boundToNhs: string | undefined;
  token: string;
  /** persons (index) this reader has broken the glass for */
  breakGlass: Set<number>;
}

export interface World {
  /** unique to this region: every distinctive string in it starts with it */
  tag: string;
  now: number;
  persons: PersonModel[];
  readers: ReaderModel[];
  /** disagreements met while setting the region up (break glass answered otherwise than expected) */
  setupFindings: string[];
}

let nhsCounter = 0;
/** A fresh valid NHS number (999 range, modulus 11 check digit). */
export function nextNhsNumber(): string {
  for (;;) {
    const stem = `999${String(++nhsCounter).padStart(6, '0')}`;
    const sum = [...stem].reduce((s, d, i) => s + Number(d) * (10 - i), 0);
    const check = (11 - (sum % 11)) % 11;
    if (check !== 10) return `${stem}${check}`;
  }
}

let regionCounter = 0;
const RUN = randomBytes(2)
  .toString('hex')
  .replace(/\d/g, (d) => 'ghijklmnop'[Number(d)]!);

const instant = (now: number, w: When) =>
  new Date(Math.floor(now / 86_400_000) * 86_400_000 + w.days * 86_400_000 + w.minute * 60_000).toISOString();
const orgNamed = (ods: string) =>
  ORGS.find((o) => o.ods === ods) ?? (ods === OUTSIDE_CLINIC.ods ? OUTSIDE_CLINIC : { ods, name: ods });
const SINGLE = new Set(['encounter', 'partOf']);

async function expectStatus(h: Harness, what: string, res: { status: number; text: string }, status: number) {
  if (res.status !== status)
    throw new Error(
      `setting the region up: ${what} answered ${res.status}, not ${status}: ${res.text.slice(0, 600)}`,
    );
  return JSON.parse(res.text) as { id?: string };
}

export async function sendRegion(h: Harness, spec: RegionSpec): Promise<World> {
  const tag = `${RUN}r${String(++regionCounter).padStart(3, '0')}`;
  const now = Date.now();
  const persons: PersonModel[] = spec.persons.map((ps, n) => {
    const sourceOf = (i: { source: number }) => ps.sources[i.source % ps.sources.length]!;
    const sources = [...new Set([...ps.sources, ...ps.alsoKnownTo])];
    const items: ItemModel[] = ps.items.map((s, k) => ({
      n: k,
      type: s.type,
      localId: `${tag}p${n}i${String(k).padStart(2, '0')}`,
      id: '',
      sourceOrg: orgOfSource(sourceOf(s)),
      source: sourceOf(s),
      codes: s.codes,
      labels: s.labels,
      names: s.names ?? undefined,
      status: ITEM_TYPES[s.type].statuses[s.status % ITEM_TYPES[s.type].statuses.length]!,
      deleted: s.enteredInError,
      when: s.when ? instant(now, s.when) : undefined,
      links: [],
      searchCodes: [],
      revised: undefined,
    }));
    for (const [k, s] of ps.items.entries()) {
      const elements = ITEM_TYPES[s.type].links as readonly string[];
      const mine = items[k]!;
      for (const l of s.links) {
        const element = elements[l.element % Math.max(1, elements.length)];
        const others = items.filter((o) => o !== mine && o.source === mine.source);
        if (
          !element ||
          others.length === 0 ||
          (SINGLE.has(element) && mine.links.some((x) => x.element === element))
        )
          continue;
        mine.links.push({ element, to: others[l.to % others.length]!.n });
      }
    }
    return {
      n,
      nhs: nextNhsNumber(),
      id: '',
      sources,
      namedGp: ps.namedGp ?? undefined,
      restricted: ps.restricted,
      items,
      objections: [],
    };
  });

  // Each source sends its Patients and items in one batch; later, the items it revises.
  const send = async (round: 'first' | 'revision') => {
    for (const source of SOURCES) {
      const resources: Resource[] = [];
      for (const p of persons) {
        const k = p.sources.indexOf(source.id);
        if (k < 0) continue;
        const patientLocal = `${tag}p${p.n}s${SOURCES.indexOf(source)}`;
        if (round === 'first')
          resources.push(
            patientResource({
              localId: patientLocal,
              nhs: p.nhs,
              family: `Fam${tag}p${p.n}`,
              restrictedAddress: p.restricted && k === 0 ? `Addr${tag}p${p.n}` : undefined,
              generalPractitioner: p.namedGp && k === 0 ? orgNamed(p.namedGp) : undefined,
            }),
          );
        for (const i of p.items) {
          const revision = spec.persons[p.n]!.items[i.n]!.revision;
          if (i.source !== source.id || (round === 'revision' && !revision)) continue;
          if (round === 'revision' && revision) {
            i.revised = revision.change === 'labels' ? 'only its security labels' : revision.change;
            if (revision.change === 'labels') i.labels = revision.labels;
            if (revision.change === 'codes') i.codes = revision.codes;
            if (revision.change === 'entered-in-error') i.deleted = true;
          }
          const r = itemResource({
            type: i.type,
            localId: i.localId,
            patientRef: `Patient/${patientLocal}`,
            marker: `LK${i.localId}KL`,
            codes: i.codes,
            labels: i.labels,
            status: i.status,
            enteredInError: i.deleted,
            when: i.when,
            names: i.names ? orgNamed(i.names) : undefined,
            links: i.links.map((l) => ({
              field: l.element,
              ref: `${p.items[l.to]!.type}/${p.items[l.to]!.localId}`,
            })),
          });
          i.searchCodes = searchCodesIn(r);
          // Every other prescription names its drug as a Medication resource (what `_include` brings
          // back), which carries the code and the item's marker: it must show only where the
          // prescription may.
          if (r.resourceType === 'MedicationRequest' && i.n % 2 === 0) {
            const rx = r as Resource & {
              text?: unknown;
              medicationCodeableConcept?: unknown;
              medicationReference?: unknown;
            };
            resources.push({
              resourceType: 'Medication',
              id: `med-${i.localId}`,
              text: rx.text,
              code: rx.medicationCodeableConcept,
            } as Resource);
            rx.medicationReference = { reference: `Medication/med-${i.localId}` };
            delete rx.medicationCodeableConcept;
          }
          resources.push(r);
        }
      }
      if (resources.length === 0) continue;
      const bundle: Bundle = {
        resourceType: 'Bundle',
        type: 'batch',
        entry: resources.map((r) => ({
          resource: r,
          request: { method: 'PUT', url: `${r.resourceType}/${r.id}` },
        })),
      };
      const res = await h.call('POST', '/ingest/fhir', source.id, bundle);
      const body = (await expectStatus(h, `ingest (${round}) from ${source.id}`, res, 200)) as Bundle;
      body.entry!.forEach((e, k) => {
        const [type, id] = (e.response?.location ?? '').split('/');
        const sent = resources[k]!;
        if (type === 'Patient')
          for (const p of persons) if (sent.id!.startsWith(`${tag}p${p.n}s`)) p.id = id!;
        for (const p of persons) for (const i of p.items) if (i.localId === sent.id) i.id = id!;
      });
    }
  };
  await send('first');
  await send('revision');

  // Objections, their overrides (the data protection officer), some ended early, some withdrawn.
  const endsOn = new Date(now + 30 * 86_400_000).toISOString().slice(0, 10);
  for (const p of persons) {
    for (const o of spec.persons[p.n]!.objections) {
      const item = p.items.length ? p.items[o.item % p.items.length]! : undefined;
      if (o.scope === 'item' && !item) continue;
      const target =
        o.scope === 'organisation'
          ? o.org
          : o.scope === 'category'
            ? o.section
            : o.scope === 'item'
              ? item!.id
              : undefined;
      const named = o.scope === 'item' && o.typedItem ? `${item!.type}/${item!.id}` : target;
      const res = await h.call('POST', '/admin/objections', o.byDpo ? h.dpoToken : h.adminToken, {
        nhs: p.nhs,
        scope: o.scope,
        ...(named ? { target: named } : {}),
        requestedOn: new Date(now - 86_400_000).toISOString().slice(0, 10),
        requestSource: 'letter',
      });
      const { id } = await expectStatus(h, `objection ${o.scope}`, res, 201);
      const model: ObjectionModel = {
        id: id!,
        scope: o.scope,
        target,
        withdrawn: o.withdrawn,
        overrides: [],
      };
      for (const v of o.overrides) {
        const ov = await h.call('POST', `/admin/objections/${id}/override`, h.dpoToken, {
          ground: v.ground,
          reason: 'Serious risk of harm: the team must see this record now.',
          endsOn,
          ...(v.forOrg ? { forOrg: v.forOrg } : {}),
        });
        const { id: overrideId } = await expectStatus(h, 'override', ov, 201);
        if (v.ended)
          await expectStatus(
            h,
            'ending an override',
            await h.call('POST', `/admin/overrides/${overrideId}/end`, h.dpoToken, {}),
            200,
          );
        model.overrides.push({ forOrg: v.forOrg, ended: v.ended });
      }
      if (o.withdrawn)
        await expectStatus(
          h,
          'withdrawal',
          await h.call('POST', `/admin/objections/${id}/withdraw`, h.adminToken, {}),
          200,
        );
      p.objections.push(model);
    }
  }

  // Readers, and the glass they break.
  const setupFindings: string[] = [];
  const readers: ReaderModel[] = [];
  // readers mostly come from organisations that view and hold someone's record
  const holding = [
    ...new Set(
      persons.flatMap((p) =>
        p.sources
          .map(orgOfSource)
          .filter((o) => o.views)
          .map((o) => o.ods),
      ),
    ),
    'Y90001',
  ];
  for (const [n, r] of spec.readers.entries()) {
    const org = typeof r.org === 'number' ? holding[r.org % holding.length]! : r.org;
    const boundToNhs = r.boundTo === null ? undefined : persons[r.boundTo % persons.length]!.nhs;
    const userId = `${tag}u${n}`;
    const reader: ReaderModel = {
      n,
      userId,
      role: r.role,
      org,
      boundToNhs,
      token: await h.mint(userId, org, r.role, boundToNhs),
      breakGlass: new Set(),
    };
    for (const bg of r.breakGlass) {
      const p = persons[bg.person % persons.length]!;
      const expected = breakGlassStatus(reader, p, bg.validReason, now);
      const res = await h.call('POST', `/fhir/Patient/${p.id}/$break-glass`, reader.token, {
        reason: bg.validReason ? 'emergency-care' : 'curiosity',
        note: 'attending in the emergency department',
      });
      if (res.status !== expected)
        setupFindings.push(
          `break glass by ${describeReader(reader)} for person ${p.n}: answered ${res.status}, expected ${expected}: ${res.text.slice(0, 300)}`,
        );
      if (res.status === 200) reader.breakGlass.add(p.n);
    }
    readers.push(reader);
  }
  return { tag, now, persons, readers, setupFindings };
}

export const describeReader = (r: ReaderModel) =>
  `reader ${r.n} (role ${r.role} at ${r.org}${r.boundToNhs ? `, session bound to ${r.boundToNhs}` : ''}${r.breakGlass.size ? `, broke glass for persons ${[...r.breakGlass].join(',')}` : ''})`;
