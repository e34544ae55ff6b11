/**
 * Synthea-shaped data for `npm run bench -- --data synthea`: the Synthea R4 transaction bundles in
 * ../shared/fixtures/synthea-r4 (public test data, read in place, never copied into the project),
 * cloned into N persons. Each clone gets fresh ids (every UUID in the bundle, so references stay
 * consistent) and an NHS number from the 999 test range, and is split into two transaction bundles:
 * one from a GP practice's system and one from the hospital's. Plus one heavy person: twenty such
 * records (ten bundles, twice, each with its own ids) under one NHS number.
 *
 * The split follows the encounters: routine check-ups stay with the GP, every other encounter
 * (problems, follow-ups, prenatal care, emergencies, admissions) goes to the hospital, and each
 * item goes with the encounter it names (items naming none stay with the GP). So, as in real
 * exports, some items refer to items held by the other source (a prescription's reason, a care
 * plan's condition): those references point at nothing this source sent.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { deterministicUuid, isClinicalType } from '../src/fhir/index.ts';
import { SOURCE_IDS } from '../src/generate/index.ts';
import { NHS_NUMBER_SYSTEM, nhsCheckDigit } from '../src/identity/index.ts';

export const SYNTHEA_DIR = path.resolve(import.meta.dirname, '..', '../shared/fixtures/synthea-r4');

/** The two sources of the split, and the GP practice (whose clinicians open the records). */
export const SYNTHEA_SOURCES = { gp: SOURCE_IDS.gp1, hospital: SOURCE_IDS.acute } as const;
export const SYNTHEA_GP_ORG = 'Y90001';
/** how many Synthea records make the heavy person */
export const HEAVY_RECORDS = 20;

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const NHS_SLOT = '@@NHS@@';

interface Template {
  file: string;
  /** the bundle's two halves as JSON text, the NHS number still to fill in */
  gp: string;
  hospital: string;
  clinical: number;
  entries: number;
}

export interface SyntheaPerson {
  label: 'typical' | 'heavy';
  nhsNumber: string;
  /** Synthea record(s) it was cloned from, and the clinical resources its sources sent */
  from: string;
  clinicalResources: number;
  gpOrg: string;
}

export interface SyntheaData {
  /** source id → folder of bundle files, in load order */
  sources: { id: string; dir: string }[];
  persons: SyntheaPerson[];
  /** entries sent (every resource of every bundle, billing and directory entries included) */
  entries: number;
  clinical: number;
  records: number;
  /** Synthea bundles cloned */
  templates: number;
  /** every file written, for the raw COPY yardstick: its NHS number */
  files: { file: string; nhsNumber: string }[];
}

export function syntheaPresent(): boolean {
  return existsSync(SYNTHEA_DIR) && readdirSync(SYNTHEA_DIR).some((f) => f.endsWith('.json'));
}

/** The 999-range NHS numbers, in order: the k-th valid ten-digit number starting 999. */
export function* testNhsNumbers(): Generator<string> {
  for (let k = 0; k < 1_000_000; k++) {
    const stem = `999${String(k).padStart(6, '0')}`;
    const check = nhsCheckDigit(stem);
    if (check !== undefined) yield `${stem}${check}`;
  }
}

const encounterUuids = (r: Resource, encounters: Set<string>): string[] =>
  [...JSON.stringify(r).matchAll(UUID)].map((m) => m[0]).filter((u) => encounters.has(u));

function isGpEncounter(r: Resource): boolean {
  const e = r as { class?: { code?: string }; type?: { text?: string }[] };
  return e.class?.code === 'AMB' && /check.?up/i.test(e.type?.[0]?.text ?? '');
}

/** Splits one Synthea bundle into its GP and hospital halves. */
function template(file: string): Template {
  const bundle = JSON.parse(readFileSync(path.join(SYNTHEA_DIR, file), 'utf8')) as Bundle;
  const entries = bundle.entry ?? [];
  const hospitalEncounters = new Set<string>();
  const encounters = new Set<string>();
  for (const e of entries)
    if (e.resource?.resourceType === 'Encounter') {
      encounters.add(e.resource.id!);
      if (!isGpEncounter(e.resource)) hospitalEncounters.add(e.resource.id!);
    }
  const gp: BundleEntry[] = [];
  const hospital: BundleEntry[] = [];
  let clinical = 0;
  for (const e of entries) {
    const r = e.resource!;
    if (isClinicalType(r.resourceType)) clinical++;
    if (r.resourceType === 'Patient') {
      const p = r as { identifier?: { system?: string; value?: string }[] };
      p.identifier = [{ system: NHS_NUMBER_SYSTEM, value: NHS_SLOT }, ...(p.identifier ?? [])];
    }
    // the patient and the directory entries (organisations, practitioners) go to both
    if (['Patient', 'Organization', 'Practitioner', 'Location', 'Medication'].includes(r.resourceType)) {
      gp.push(e);
      hospital.push(e);
      continue;
    }
    const own = r.resourceType === 'Encounter' ? [r.id!] : encounterUuids(r, encounters);
    (own[0] && hospitalEncounters.has(own[0]) ? hospital : gp).push(e);
  }
  const text = (list: BundleEntry[]) =>
    JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: list });
  return { file, gp: text(gp), hospital: text(hospital), clinical, entries: gp.length + hospital.length };
}

/** One clone: every UUID replaced by one derived from (clone, UUID); the NHS number filled in. */
function cloneText(text: string, clone: string, nhsNumber: string): string {
  const ids = new Map<string, string>();
  return text
    .replace(UUID, (u) => {
      let v = ids.get(u);
      if (!v) ids.set(u, (v = deterministicUuid(`synthea|${clone}|${u}`)));
      return v;
    })
    .replace(NHS_SLOT, nhsNumber);
}

/** Writes the cloned region to `dir`: `<source>/<nnnnn>.json`, one bundle per record and source. */
export function writeSyntheaRegion(dir: string, persons: number): SyntheaData {
  const templates = readdirSync(SYNTHEA_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map(template);
  const gpDir = path.join(dir, SYNTHEA_SOURCES.gp);
  const hospitalDir = path.join(dir, SYNTHEA_SOURCES.hospital);
  mkdirSync(gpDir, { recursive: true });
  mkdirSync(hospitalDir, { recursive: true });
  const numbers = testNhsNumbers();
  const data: SyntheaData = {
    sources: [
      { id: SYNTHEA_SOURCES.gp, dir: gpDir },
      { id: SYNTHEA_SOURCES.hospital, dir: hospitalDir },
    ],
    persons: [],
    entries: 0,
    clinical: 0,
    records: 0,
    templates: templates.length,
    files: [],
  };
  let record = 0;
  const write = (t: Template, nhsNumber: string): void => {
    const name = `${String(record).padStart(5, '0')}.json`;
    const clone = `record-${record++}`;
    for (const [folder, text] of [
      [gpDir, t.gp],
      [hospitalDir, t.hospital],
    ] as const) {
      const file = path.join(folder, name);
      writeFileSync(file, cloneText(text, clone, nhsNumber));
      data.files.push({ file, nhsNumber });
    }
    data.entries += t.entries;
    data.clinical += t.clinical;
    data.records++;
  };

  // typical: a clone of the record with the median number of clinical resources
  const median = [...templates].sort((a, b) => a.clinical - b.clinical)[Math.floor(templates.length / 2)]!;
  for (let i = 0; i < persons; i++) {
    const t = templates[i % templates.length]!;
    const nhsNumber = numbers.next().value!;
    write(t, nhsNumber);
    if (t === median && !data.persons.some((p) => p.label === 'typical'))
      data.persons.push({
        label: 'typical',
        nhsNumber,
        from: t.file.replace(/_[0-9a-f-]{36}\.json$/, ''),
        clinicalResources: t.clinical,
        gpOrg: SYNTHEA_GP_ORG,
      });
  }
  if (!data.persons.some((p) => p.label === 'typical'))
    throw new Error(`--persons must be at least ${templates.indexOf(median) + 1} for a typical person`);
  const heavyNhs = numbers.next().value!;
  let heavyClinical = 0;
  for (let i = 0; i < HEAVY_RECORDS; i++) {
    const t = templates[i % templates.length]!;
    write(t, heavyNhs);
    heavyClinical += t.clinical;
  }
  data.persons.push({
    label: 'heavy',
    nhsNumber: heavyNhs,
    from: `${HEAVY_RECORDS} records`,
    clinicalResources: heavyClinical,
    gpOrg: SYNTHEA_GP_ORG,
  });
  return data;
}
