/**
 * The viewer's sections (issue 6) and which items belong in each. Most follow the resource type;
 * social care, mental health and out-of-hours/111 follow who sent the item (the organisation's
 * kind, from the sources panel's data) and, for mental health, what it is about. An item can be in
 * a type section and an origin section (a 111 call is also on the timeline).
 */
import type { Encounter } from '@medplum/fhirtypes';
import type { Item } from './item.ts';

export type SectionId =
  | 'summary'
  | 'problems'
  | 'medications'
  | 'allergies'
  | 'results'
  | 'encounters'
  | 'referrals'
  | 'documents'
  | 'immunisations'
  | 'care-plans'
  | 'social-care'
  | 'mental-health'
  | 'out-of-hours'
  | 'sources';

export interface SectionDef {
  id: SectionId;
  label: string;
  /** items this section lists; undefined for summary and sources */
  match?: (item: Item, orgKind: (ods: string) => string) => boolean;
  /**
   * the server's sections (src/access/roles.ts) whose items this one lists, with the words for
   * them; a section by origin (social care, …) can list any of them
   */
  access?: Record<string, string>;
}

/** The server's sections of the record (src/access/roles.ts ALL_SECTIONS), in a clinician's words. */
const SERVER_SECTIONS: Record<string, string> = {
  problems: 'problems and diagnoses',
  procedures: 'procedures',
  medications: 'medications',
  allergies: 'allergies',
  immunisations: 'immunisations',
  results: 'test results',
  encounters: 'encounters',
  appointments: 'appointments',
  referrals: 'referrals',
  documents: 'letters and documents',
  'care-plans': 'care plans',
  alerts: 'alerts',
};
const only = (...names: string[]) => Object.fromEntries(names.map((n) => [n, SERVER_SECTIONS[n]!]));

/**
 * Whether the user's role may see a section, as the server said (GET /viewer/api/session): all of
 * it, part of it (which parts), or none. The viewer never decides this itself; with no word from
 * the server (`allowed` undefined) it claims nothing.
 */
export function sectionAccess(
  def: SectionDef,
  allowed: readonly string[] | undefined,
): { level: 'all' | 'part' | 'none'; shown: string[] } {
  if (!allowed || !def.access) return { level: 'all', shown: [] };
  const names = Object.keys(def.access);
  const shown = names.filter((n) => allowed.includes(n));
  const level = shown.length === 0 ? 'none' : shown.length === names.length ? 'all' : 'part';
  return { level, shown: shown.map((n) => def.access![n]!) };
}

const types = (...t: string[]) => {
  const set = new Set(t);
  return (item: Item) => set.has(item.type);
};

/** SNOMED CT concepts of the mental-health diagnoses, assessments and services in the region. */
const MENTAL_HEALTH_CODES = new Set([
  '35489007',
  '21897009',
  '66344007',
  '58214004',
  '13746004',
  '47505003',
  '20010003',
  '69322001',
  '56882008',
  '7200002',
  '720433000',
  '836521000000107',
  '722162001',
  '1136641000000104',
  '183524004',
  '228557008',
  '225444004',
]);
const MENTAL_HEALTH_WORDS =
  /mental health|psychiat|psycholog|talking therap|camhs|crisis team|depress|anxiety|psychos|schizo|bipolar|eating disorder/i;

function codesOf(item: Item): string[] {
  const out: string[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 3 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach((x) => walk(x, depth + 1));
    const o = v as Record<string, unknown>;
    if (typeof o.code === 'string' && typeof o.system === 'string') out.push(o.code);
    for (const k of ['code', 'coding', 'type', 'serviceType', 'reasonCode', 'category', 'vaccineCode'])
      if (k in o) walk(o[k], depth + 1);
  };
  walk(item.resource, 0);
  return out;
}

export function isMentalHealth(item: Item): boolean {
  if (codesOf(item).some((c) => MENTAL_HEALTH_CODES.has(c))) return true;
  return MENTAL_HEALTH_WORDS.test(`${item.title} ${item.kind ?? ''}`);
}

export const SECTIONS: SectionDef[] = [
  { id: 'summary', label: 'Summary' },
  {
    id: 'problems',
    label: 'Problems and diagnoses',
    match: types('Condition', 'Procedure'),
    access: only('problems', 'procedures'),
  },
  {
    id: 'medications',
    label: 'Medications',
    match: types(
      'MedicationRequest',
      'MedicationStatement',
      'MedicationAdministration',
      'MedicationDispense',
    ),
    access: only('medications'),
  },
  {
    id: 'allergies',
    label: 'Allergies and reactions',
    match: types('AllergyIntolerance'),
    access: only('allergies'),
  },
  {
    id: 'results',
    label: 'Test results',
    match: types('Observation', 'DiagnosticReport', 'ImagingStudy'),
    access: only('results'),
  },
  {
    id: 'encounters',
    label: 'Encounters and appointments',
    match: types('Encounter', 'EpisodeOfCare', 'Appointment'),
    access: only('encounters', 'appointments'),
  },
  { id: 'referrals', label: 'Referrals', match: types('ServiceRequest'), access: only('referrals') },
  {
    id: 'documents',
    label: 'Letters and documents',
    match: types('DocumentReference', 'Composition', 'QuestionnaireResponse'),
    access: only('documents'),
  },
  {
    id: 'immunisations',
    label: 'Immunisations',
    match: types('Immunization'),
    access: only('immunisations'),
  },
  {
    id: 'care-plans',
    label: 'Care plans',
    match: types('CarePlan', 'CareTeam', 'Goal'),
    access: only('care-plans'),
  },
  {
    id: 'social-care',
    label: 'Social care',
    match: (i, kind) => kind(i.prov.ods) === 'social-care',
    access: SERVER_SECTIONS,
  },
  {
    id: 'mental-health',
    label: 'Mental health',
    match: (i, kind) => kind(i.prov.ods) !== 'social-care' && isMentalHealth(i),
    access: SERVER_SECTIONS,
  },
  {
    id: 'out-of-hours',
    label: 'Out of hours and 111',
    match: (i, kind) => kind(i.prov.ods) === 'out-of-hours',
    access: SERVER_SECTIONS,
  },
  { id: 'sources', label: 'Sources' },
];

export function sectionDef(id: string): SectionDef | undefined {
  return SECTIONS.find((s) => s.id === id);
}

/** What an out-of-hours service's face-to-face contact is, whatever class its system gives it. */
const OUT_OF_HOURS_CONTACT: Record<string, string> = {
  EMER: 'Out-of-hours consultation',
  AMB: 'Out-of-hours consultation',
};

/**
 * Items with the kind their origin gives them: a GP out-of-hours base visit (sent as an emergency
 * encounter by many urgent-care systems) is not an A&E attendance.
 */
export function originKinds(items: Item[], orgKind: (ods: string) => string): Item[] {
  return items.map((i) => {
    if (i.type !== 'Encounter' || orgKind(i.prov.ods) !== 'out-of-hours') return i;
    const kind = OUT_OF_HOURS_CONTACT[(i.resource as Encounter).class?.code ?? ''];
    return kind ? { ...i, kind } : i;
  });
}
