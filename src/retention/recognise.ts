/**
 * Which stored items are maternity or mental-health records, for their longer retention periods.
 * This is the one place that decides it; the store only applies the result (an ItemMatcher) in SQL.
 *
 * An item is maternity (or mental health) when any of these holds:
 * - it comes from an organisation whose registered kind names the service ("maternity",
 *   "mental-health", which includes a combined "community-mental-health" trust), or that the
 *   configuration lists (retention.maternityOrganisations / mentalHealthOrganisations);
 * - it carries a code anywhere in it (diagnosis, procedure, Encounter or EpisodeOfCare type or
 *   service type, observation code) from the lists below: ICD-10 chapters by prefix, OPCS-4
 *   obstetrics by prefix, and a short list of SNOMED CT concepts.
 *
 * Both err towards keeping: a mixed community and mental-health trust cannot be told apart item by
 * item without codes, so all its items are kept for the mental-health period (the Records
 * Management Code keeps a mixed record for its longest applicable period). Misfiling an ordinary
 * item as maternity keeps it longer; misfiling a maternity item as ordinary would destroy it early.
 */
import type { ItemMatcher } from '../store/index.ts';

const SNOMED = 'http://snomed.info/sct';
const ICD10 = ['http://hl7.org/fhir/sid/icd-10', 'http://hl7.org/fhir/sid/icd-10-uk'];
const OPCS4 = ['https://fhir.hl7.org.uk/Id/opcs-4', 'http://www.datadictionary.nhs.uk/opcs-4'];

/** SNOMED CT concepts (not their descendants: there is no terminology server here). */
const MATERNITY_SNOMED = [
  '77386006', // Pregnancy
  '72892002', // Normal pregnancy
  '424525001', // Antenatal care
  '133906008', // Postpartum care
  '236973005', // Delivery procedure
  '48782003', // Delivery normal
  '11466000', // Caesarean section
  '169826009', // Single live birth
];
const MENTAL_HEALTH_SNOMED = [
  '74732009', // Mental disorder
  '35489007', // Depressive disorder
  '66344007', // Recurrent major depression
  '197480006', // Anxiety disorder
  '21897009', // Generalised anxiety disorder
  '58214004', // Schizophrenia
  '13746004', // Bipolar disorder
  '69322001', // Psychotic disorder
  '47505003', // Post-traumatic stress disorder
  '20010003', // Borderline personality disorder
  '56882008', // Anorexia nervosa
  '7200002', // Alcoholism
  '720433000', // PHQ-9 score
  '722162001', // Psychology service
  '183524004', // Referral to psychiatric service
  '228557008', // Cognitive and behavioural therapy
];

/** ICD-10 O00–O99 (pregnancy, childbirth, puerperium), Z32–Z37 and Z39; OPCS-4 chapter R. */
const MATERNITY_ICD10 = ['O', 'Z32', 'Z33', 'Z34', 'Z35', 'Z36', 'Z37', 'Z39'];
const MATERNITY_OPCS4 = ['R'];
/** ICD-10 chapter V, F00–F99 (mental and behavioural disorders). */
const MENTAL_HEALTH_ICD10 = ['F'];

export interface CodeClass {
  maternity: boolean;
  mentalHealth: boolean;
}

/** Whether one "system|code" value is a maternity or a mental-health code. */
export function classifyCode(value: string): CodeClass {
  const bar = value.indexOf('|');
  const system = value.slice(0, bar);
  const code = value.slice(bar + 1);
  if (system === SNOMED)
    return { maternity: MATERNITY_SNOMED.includes(code), mentalHealth: MENTAL_HEALTH_SNOMED.includes(code) };
  // ICD-10 and OPCS-4 are written with and without the dot (O80.0, O800): compare without
  const c = code.replace('.', '').toUpperCase();
  const starts = (prefixes: string[]) => prefixes.some((p) => c.startsWith(p));
  if (ICD10.includes(system))
    return { maternity: starts(MATERNITY_ICD10), mentalHealth: starts(MENTAL_HEALTH_ICD10) };
  if (OPCS4.includes(system)) return { maternity: starts(MATERNITY_OPCS4), mentalHealth: false };
  return { maternity: false, mentalHealth: false };
}

export interface OrganisationKind {
  ods: string;
  kind: string | null;
}

export interface Recogniser {
  /** the matchers for a batch, given the distinct codes its items carry */
  matchers(codes: string[]): { maternity: ItemMatcher; mentalHealth: ItemMatcher };
}

/**
 * A recogniser for one run. Codes are classified once each (a region has a few thousand distinct
 * codes against millions of items); the store is then given only the matching codes a batch has,
 * so its test per item is a small array overlap.
 */
export function createRecogniser(
  organisations: OrganisationKind[],
  configured: { maternityOrganisations: string[]; mentalHealthOrganisations: string[] },
): Recogniser {
  const byKind = (re: RegExp) => organisations.filter((o) => o.kind && re.test(o.kind)).map((o) => o.ods);
  const unique = (a: string[]) => [...new Set(a)].sort();
  const maternityOrgs = unique([...byKind(/maternity/i), ...configured.maternityOrganisations]);
  const mentalHealthOrgs = unique([...byKind(/mental-health/i), ...configured.mentalHealthOrganisations]);
  const known = new Map<string, CodeClass>();
  return {
    matchers(codes) {
      const classes = codes.map((code) => {
        let c = known.get(code);
        if (!c) known.set(code, (c = classifyCode(code)));
        return [code, c] as const;
      });
      return {
        maternity: {
          organisations: maternityOrgs,
          codes: classes.filter(([, c]) => c.maternity).map(([k]) => k),
        },
        mentalHealth: {
          organisations: mentalHealthOrgs,
          codes: classes.filter(([, c]) => c.mentalHealth).map(([k]) => k),
        },
      };
    },
  };
}
