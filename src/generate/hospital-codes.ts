/**
 * Secondary-care code tables: pathology panels (LOINC analytes with UCUM units and UK reference
 * ranges), procedures, reasons for attendance and clinic specialties. Illustrative synthetic data.
 */
import type { Coded } from './gp-codes.ts';

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';

export interface Analyte extends Coded {
  unit: string;
  low: number;
  high: number;
  decimals: number;
}

export interface Panel extends Coded {
  analytes: readonly Analyte[];
}

/** "loinc|display|unit|low|high|decimals" per line. */
function parseAnalytes(rows: string): readonly Analyte[] {
  return rows
    .trim()
    .split('\n')
    .map((row) => {
      const [code = '', display = '', unit = '', low = '0', high = '0', decimals = '0'] = row
        .trim()
        .split('|');
      return { code, display, unit, low: Number(low), high: Number(high), decimals: Number(decimals) };
    });
}

export const FBC: Panel = {
  code: '26604007',
  display: 'Full blood count',
  analytes: parseAnalytes(`
    718-7|Haemoglobin|g/L|115|165|0
    6690-2|White cell count|10*9/L|4|11|1
    777-3|Platelet count|10*9/L|150|400|0
    789-8|Red cell count|10*12/L|3.8|5.8|2
    4544-3|Haematocrit|L/L|0.36|0.5|2
    787-2|Mean cell volume|fL|80|100|0
    751-8|Neutrophil count|10*9/L|2|7.5|1
    731-0|Lymphocyte count|10*9/L|1|4|1`),
};

export const UE: Panel = {
  code: '252167001',
  display: 'Urea and electrolytes',
  analytes: parseAnalytes(`
    2951-2|Sodium|mmol/L|133|146|0
    2823-3|Potassium|mmol/L|3.5|5.3|1
    22664-7|Urea|mmol/L|2.5|7.8|1
    14682-9|Creatinine|umol/L|59|104|0
    62238-1|eGFR (CKD-EPI)|mL/min/{1.73_m2}|90|120|0`),
};

export const LFT: Panel = {
  code: '26958001',
  display: 'Liver function tests',
  analytes: parseAnalytes(`
    1742-6|Alanine aminotransferase|U/L|0|40|0
    6768-6|Alkaline phosphatase|U/L|30|130|0
    14631-6|Bilirubin|umol/L|0|21|0
    1751-7|Albumin|g/L|35|50|0
    2324-2|Gamma-glutamyl transferase|U/L|0|55|0`),
};

export const CRP: Panel = {
  code: '55235003',
  display: 'C-reactive protein measurement',
  analytes: parseAnalytes('1988-5|C-reactive protein|mg/L|0|5|0'),
};

export const LIPIDS: Panel = {
  code: '16254007',
  display: 'Lipid panel',
  analytes: parseAnalytes(`
    14647-2|Total cholesterol|mmol/L|3|5|1
    14646-4|HDL cholesterol|mmol/L|1|2|1
    22748-8|LDL cholesterol|mmol/L|1.5|3|1
    14927-8|Triglycerides|mmol/L|0.5|1.7|1`),
};

export const HBA1C: Panel = {
  code: '43396009',
  display: 'Haemoglobin A1c measurement',
  analytes: parseAnalytes('59261-8|Haemoglobin A1c (IFCC)|mmol/mol|20|41|0'),
};

export const TFT: Panel = {
  code: '35650009',
  display: 'Thyroid function tests',
  analytes: parseAnalytes(`
    3016-3|Thyroid stimulating hormone|m[IU]/L|0.35|4.94|2
    3024-7|Free thyroxine|pmol/L|9|19|1`),
};

export const PRIVATE_LAB_PANELS: readonly Panel[] = [
  TFT,
  LIPIDS,
  HBA1C,
  {
    code: '412807009',
    display: 'Vitamin D measurement',
    analytes: parseAnalytes('62292-8|25-hydroxyvitamin D|nmol/L|50|150|0'),
  },
  {
    code: '104916007',
    display: 'Ferritin measurement',
    analytes: parseAnalytes('2276-4|Ferritin|ug/L|30|400|0'),
  },
  {
    code: '63476009',
    display: 'Prostate specific antigen measurement',
    analytes: parseAnalytes('2857-1|Prostate specific antigen|ug/L|0|4|2'),
  },
];

function parseCoded(rows: string): readonly Coded[] {
  return rows
    .trim()
    .split('\n')
    .map((row) => {
      const [code = '', display = ''] = row.trim().split('|');
      return { code, display };
    });
}

export const PROCEDURES = parseCoded(`
  80146002|Appendectomy
  52734007|Total replacement of hip
  609588000|Total knee replacement
  54885007|Extracapsular cataract extraction
  73761001|Colonoscopy
  415070008|Percutaneous coronary intervention
  386831001|Upper gastrointestinal endoscopy
  45595009|Laparoscopic cholecystectomy
  44558001|Repair of inguinal hernia
  77477000|Computerized axial tomography
  40701008|Echocardiography
  29303009|Electrocardiographic procedure`);

export const ED_REASONS = parseCoded(`
  29857009|Chest pain
  267036007|Dyspnea
  161898004|Falls
  21522001|Abdominal pain
  5913000|Fracture of neck of femur
  233604007|Pneumonia
  68566005|Urinary tract infectious disease
  128045006|Cellulitis
  25064002|Headache
  91175000|Seizure
  271594007|Syncope
  419284004|Altered mental status`);

/** Outpatient clinics: specialty display for the Appointment's serviceType. */
export const CLINICS = parseCoded(`
  394579002|Cardiology
  394584008|Gastroenterology
  394801008|Trauma and orthopaedics
  394583002|Endocrinology
  418112009|Pulmonary medicine
  394594003|Ophthalmology
  394591006|Neurology
  394609007|General surgery
  394611003|Urology
  394812008|Dermatology`);

export const ENCOUNTER_TYPES = {
  ed: { code: '4525004', display: 'Emergency department patient visit' },
  admission: { code: '32485007', display: 'Hospital admission' },
  outpatient: { code: '185389009', display: 'Follow-up visit' },
  gp: { code: '11429006', display: 'Consultation' },
  gpPhone: { code: '185317003', display: 'Telephone encounter' },
  homeVisit: { code: '439708006', display: 'Home visit' },
} satisfies Record<string, Coded>;

export const DOCUMENT_TYPES = {
  discharge: { code: '373942005', display: 'Discharge summary' },
  clinicLetter: { code: '371531000', display: 'Report of clinical encounter' },
  referral: { code: '3457005', display: 'Patient referral' },
  assessment: { code: '371530004', display: 'Clinical consultation report' },
} satisfies Record<string, Coded>;
