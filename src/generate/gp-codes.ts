/**
 * Primary-care code tables: SNOMED CT problems, dm+d medicines, allergies and vaccines. The codes are
 * chosen to look right in a demo; they are illustrative synthetic data, not a clinical reference.
 */

export const SNOMED = 'http://snomed.info/sct';
export const DMD = 'https://dmd.nhs.uk';

export interface Coded {
  code: string;
  display: string;
}

export interface Medicine extends Coded {
  dosage: string;
}

export type Tracker = 'bp' | 'hba1c' | 'cholesterol' | 'egfr' | 'peakflow' | 'phq9';

export interface ChronicCondition extends Coded {
  key: string;
  minAge: number;
  maxAge?: number;
  /** Chance of having it, for someone in the age band. */
  prevalence: number;
  meds: readonly Medicine[];
  tracks: readonly Tracker[];
  mentalHealth?: boolean;
}

function parseMedicine(row: string): Medicine {
  const [code = '', display = '', dosage = ''] = row.split('|');
  return { code, display, dosage };
}

export const MEDS = {
  amlodipine: parseMedicine('319283006|Amlodipine 5mg tablets|One tablet once a day'),
  ramipril: parseMedicine('408050008|Ramipril 5mg capsules|One capsule once a day'),
  losartan: parseMedicine('318955005|Losartan 50mg tablets|One tablet once a day'),
  metformin: parseMedicine('325278007|Metformin 500mg tablets|One tablet twice a day with meals'),
  gliclazide: parseMedicine('325238007|Gliclazide 80mg tablets|One tablet twice a day with meals'),
  dapagliflozin: parseMedicine('703674005|Dapagliflozin 10mg tablets|One tablet once a day'),
  salbutamol: parseMedicine(
    '320176004|Salbutamol 100micrograms/dose inhaler CFC free|Two puffs when required',
  ),
  beclometasone: parseMedicine(
    '320181002|Beclometasone 100micrograms/dose inhaler CFC free|Two puffs twice a day',
  ),
  tiotropium: parseMedicine(
    '407819001|Tiotropium bromide 18microgram inhalation powder capsules|Inhale one capsule daily',
  ),
  sertraline: parseMedicine('321949006|Sertraline 50mg tablets|One tablet once a day'),
  citalopram: parseMedicine('321988002|Citalopram 20mg tablets|One tablet once a day'),
  mirtazapine: parseMedicine('322067000|Mirtazapine 15mg tablets|One tablet at night'),
  propranolol: parseMedicine(
    '318353009|Propranolol 10mg tablets|One tablet up to three times a day when required',
  ),
  paracetamol: parseMedicine(
    '322236009|Paracetamol 500mg tablets|Two tablets up to four times a day when required',
  ),
  naproxen: parseMedicine('329650005|Naproxen 500mg tablets|One tablet twice a day with food'),
  cocodamol: parseMedicine(
    '322280009|Co-codamol 30mg/500mg tablets|One to two tablets up to four times a day',
  ),
  levothyroxine: parseMedicine('315255001|Levothyroxine sodium 50microgram tablets|One tablet each morning'),
  apixaban: parseMedicine('703907005|Apixaban 5mg tablets|One tablet twice a day'),
  bisoprolol: parseMedicine('318590006|Bisoprolol fumarate 2.5mg tablets|One tablet once a day'),
  furosemide: parseMedicine('317972000|Furosemide 40mg tablets|One tablet each morning'),
  aspirin: parseMedicine('319770009|Aspirin 75mg dispersible tablets|One tablet once a day'),
  atorvastatin: parseMedicine('320029000|Atorvastatin 20mg tablets|One tablet at night'),
  gtn: parseMedicine(
    '319775004|Glyceryl trinitrate 400micrograms/dose pump sublingual spray|One to two sprays when required',
  ),
  omeprazole: parseMedicine('317335008|Omeprazole 20mg gastro-resistant capsules|One capsule once a day'),
  sumatriptan: parseMedicine(
    '411620008|Sumatriptan 50mg tablets|One tablet at onset, may repeat after two hours',
  ),
  emollient: parseMedicine('331639004|Emollient cream|Apply liberally as often as needed'),
  hydrocortisone: parseMedicine(
    '331646005|Hydrocortisone 1% cream|Apply thinly twice a day for up to seven days',
  ),
  donepezil: parseMedicine('407738007|Donepezil 5mg tablets|One tablet at night'),
  clopidogrel: parseMedicine('317267008|Clopidogrel 75mg tablets|One tablet once a day'),
  levetiracetam: parseMedicine('407936008|Levetiracetam 500mg tablets|One tablet twice a day'),
  orlistat: parseMedicine('326163007|Orlistat 120mg capsules|One capsule three times a day with meals'),
};

/**
 * One line per long-term condition: key|SNOMED code|display|age band|prevalence in the band|
 * medicines (keys of MEDS)|trackers (observations repeated while it lasts)|mh when mental health.
 */
const CHRONIC_ROWS = `
  htn|38341003|Hypertensive disorder|40-120|0.3|amlodipine ramipril losartan|bp
  t2dm|44054006|Type 2 diabetes mellitus|35-120|0.1|metformin gliclazide dapagliflozin|hba1c egfr cholesterol
  asthma|195967001|Asthma|3-120|0.1|salbutamol beclometasone|peakflow
  copd|13645005|Chronic obstructive lung disease|50-120|0.06|tiotropium salbutamol|
  depression|35489007|Depressive disorder|16-120|0.12|sertraline citalopram mirtazapine|phq9|mh
  anxiety|197480006|Anxiety disorder|16-120|0.08|sertraline propranolol|phq9|mh
  oa|396275006|Osteoarthritis|55-120|0.2|paracetamol naproxen cocodamol|
  hypothyroid|40930008|Hypothyroidism|30-120|0.05|levothyroxine|
  af|49436004|Atrial fibrillation|65-120|0.1|apixaban bisoprolol|bp
  ckd|433144002|Chronic kidney disease stage 3|65-120|0.12||egfr bp
  hf|84114007|Heart failure|70-120|0.05|furosemide bisoprolol ramipril|bp egfr
  ihd|414545008|Ischemic heart disease|55-120|0.08|aspirin atorvastatin gtn|bp cholesterol
  lipids|55822004|Hyperlipidemia|45-120|0.15|atorvastatin|cholesterol
  gord|235595009|Gastroesophageal reflux disease|18-120|0.1|omeprazole|
  migraine|37796009|Migraine|12-60|0.08|sumatriptan|
  eczema|24079001|Atopic dermatitis|0-16|0.15|emollient hydrocortisone|
  obesity|414916001|Obesity|18-120|0.15|orlistat|
  dementia|52448006|Dementia|80-120|0.15|donepezil|
  stroke|230690007|Cerebrovascular accident|65-120|0.04|clopidogrel atorvastatin|bp
  epilepsy|84757009|Epilepsy|0-120|0.01|levetiracetam|`;

const TRACKERS: readonly Tracker[] = ['bp', 'hba1c', 'cholesterol', 'egfr', 'peakflow', 'phq9'];

function parseChronic(row: string): ChronicCondition {
  const [key = '', code = '', display = '', band = '', prevalence = '', meds = '', tracks = '', mh] =
    row.split('|');
  const [minAge = 0, maxAge = 120] = band.split('-').map(Number);
  const medicines: Record<string, Medicine> = MEDS;
  return {
    key,
    code,
    display,
    minAge,
    maxAge,
    prevalence: Number(prevalence),
    meds: meds
      .split(' ')
      .filter(Boolean)
      .map((m) => {
        const medicine = medicines[m];
        if (!medicine) throw new Error(`unknown medicine ${m} for ${key}`);
        return medicine;
      }),
    tracks: TRACKERS.filter((t) => tracks.split(' ').includes(t)),
    mentalHealth: mh === 'mh',
  };
}

export const CHRONIC_CONDITIONS: readonly ChronicCondition[] = CHRONIC_ROWS.trim()
  .split('\n')
  .map((row) => parseChronic(row.trim()));

function parseCoded(rows: string): readonly Coded[] {
  return rows
    .trim()
    .split('\n')
    .map((row) => {
      const [code = '', display = ''] = row.trim().split('|');
      return { code, display };
    });
}

/** Short-lived problems that end up resolved. */
export const ACUTE_PROBLEMS = parseCoded(`
  90176007|Tonsillitis
  68566005|Urinary tract infectious disease
  279039007|Low back pain
  44465007|Sprain of ankle
  65363002|Otitis media
  54150009|Upper respiratory infection
  128045006|Cellulitis
  9826008|Conjunctivitis
  25374005|Gastroenteritis
  10509002|Acute bronchitis
  36971009|Sinusitis
  271807003|Eruption of skin`);

export const ANTIBIOTICS: readonly Medicine[] = [
  parseMedicine('323509004|Amoxicillin 500mg capsules|One capsule three times a day for five days'),
  parseMedicine('323567008|Flucloxacillin 500mg capsules|One capsule four times a day for seven days'),
  parseMedicine(
    '377204008|Nitrofurantoin 100mg modified-release capsules|One capsule twice a day for three days',
  ),
  parseMedicine('324125005|Doxycycline 100mg capsules|Two capsules on day one then one daily for five days'),
  parseMedicine('324095003|Clarithromycin 500mg tablets|One tablet twice a day for five days'),
  parseMedicine('325427001|Prednisolone 5mg tablets|Six tablets each morning for five days'),
];

/** Allergen substances; penicillin first because it is by far the most common record. */
export const ALLERGENS = parseCoded(`
  764146007|Penicillin
  372687004|Amoxicillin
  387207008|Ibuprofen
  387458008|Aspirin
  387406002|Sulfamethoxazole
  373529000|Morphine
  387494007|Codeine
  256349002|Peanut
  111088007|Latex
  227493005|Cashew nut`);

export const REACTIONS = parseCoded(`
  271807003|Eruption of skin
  126485001|Urticaria
  267036007|Dyspnea
  39579001|Anaphylaxis
  422587007|Nausea`);

export const VACCINES = {
  flu: { code: '1181000221105', display: 'Influenza vaccine' },
  covid: { code: '1119349007', display: 'SARS-CoV-2 mRNA vaccine' },
  pneumo: { code: '836398006', display: 'Pneumococcal vaccine' },
  shingles: { code: '871923000', display: 'Herpes zoster vaccine' },
  tetanus: { code: '871878002', display: 'Tetanus and diphtheria and poliomyelitis vaccine' },
  mmr: { code: '871831003', display: 'Measles and mumps and rubella vaccine' },
  sixInOne: {
    code: '1162634005',
    display: 'Diphtheria, tetanus, pertussis, poliomyelitis, Hib and hepatitis B vaccine',
  },
  menB: { code: '1163664003', display: 'Meningococcal group B vaccine' },
  hpv: { code: '911000221103', display: 'Human papillomavirus vaccine' },
} satisfies Record<string, Coded>;
