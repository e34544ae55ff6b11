/**
 * Community, mental-health, social-care and urgent-care code tables. Illustrative synthetic data.
 */
import type { Coded } from './gp-codes.ts';

function parseCoded(rows: string): readonly Coded[] {
  return rows
    .trim()
    .split('\n')
    .map((row) => {
      const [code = '', display = ''] = row.trim().split('|');
      return { code, display };
    });
}

export const MENTAL_HEALTH_DIAGNOSES = parseCoded(`
  35489007|Depressive disorder
  21897009|Generalized anxiety disorder
  66344007|Recurrent major depression
  58214004|Schizophrenia
  13746004|Bipolar disorder
  47505003|Posttraumatic stress disorder
  20010003|Borderline personality disorder
  69322001|Psychotic disorder
  56882008|Anorexia nervosa
  7200002|Alcoholism`);

/** Community teams: a team name, the SNOMED service it provides and what its visits are called. */
export interface CommunityService {
  team: string;
  service: Coded;
  visit: Coded;
  mentalHealth: boolean;
}

export const COMMUNITY_SERVICES: readonly CommunityService[] = [
  {
    team: 'Community Mental Health Team',
    service: { code: '722162001', display: 'Psychology service' },
    visit: { code: '183524004', display: 'Referral to psychiatric service' },
    mentalHealth: true,
  },
  {
    team: 'Talking Therapies',
    service: { code: '1136641000000104', display: 'Talking therapies service' },
    visit: { code: '228557008', display: 'Cognitive and behavioral therapy' },
    mentalHealth: true,
  },
  {
    team: 'District Nursing',
    service: { code: '310188000', display: 'District nurse service' },
    visit: { code: '439708006', display: 'Home visit' },
    mentalHealth: false,
  },
  {
    team: 'Community Physiotherapy',
    service: { code: '310093001', display: 'Physiotherapy service' },
    visit: { code: '91251008', display: 'Physical therapy procedure' },
    mentalHealth: false,
  },
  {
    team: 'Community Respiratory Team',
    service: { code: '708172006', display: 'Respiratory medicine service' },
    visit: { code: '439708006', display: 'Home visit' },
    mentalHealth: false,
  },
];

export const SOCIAL_CARE_PACKAGES = parseCoded(`
  711069006|Coordination of care plan
  308440001|Home care
  225365003|Meals on wheels
  183918006|Residential care
  385829007|Respite care
  225368001|Day care`);

export const SOCIAL_CARE_ASSESSMENTS = parseCoded(`
  225398001|Assessment of needs
  710915002|Carer assessment
  1099471000000103|Care Act assessment
  711030007|Review of care plan`);

export const SOCIAL_CARE_PACKAGE_TEXT: readonly string[] = [
  'Home care: two calls a day for personal care',
  'Home care: four calls a day, double-handed',
  'Reablement package for six weeks after hospital discharge',
  'Day centre two days a week',
  'Residential care placement',
  'Direct payment for personal assistant',
  'Telecare pendant alarm and key safe',
];

/** NHS 111 / out-of-hours presenting complaints. */
export const URGENT_CARE_REASONS = parseCoded(`
  29857009|Chest pain
  267036007|Dyspnea
  21522001|Abdominal pain
  386661006|Fever
  422400008|Vomiting
  25064002|Headache
  271807003|Eruption of skin
  49727002|Cough
  162397003|Pain in throat
  161898004|Falls
  419284004|Altered mental status
  225444004|At risk for suicide`);

export const URGENT_CARE_OUTCOMES: readonly string[] = [
  'Self care advice given',
  'Referred to GP out-of-hours base for face-to-face assessment',
  'Advised to contact own GP practice within 24 hours',
  'Ambulance dispatched (category 3)',
  'Advised to attend the emergency department',
  'Home visit by out-of-hours GP',
  'Repeat prescription issued by out-of-hours clinician',
  'Referred to community pharmacist consultation service',
];
