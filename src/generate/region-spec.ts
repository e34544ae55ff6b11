/**
 * The fixed synthetic region "Northdale": every name and ODS code here is fictional.
 */

export type OrgKind =
  'gp' | 'acute' | 'community-mental-health' | 'social-care' | 'out-of-hours' | 'pathology';

export interface RegionOrganisation {
  ods: string;
  name: string;
  kind: OrgKind;
  contributes: boolean;
  views: boolean;
  /** the data set it declares it shares (its data-sharing agreement), when it has declared one */
  dataSet?: { categories: string[]; from?: string };
}

export interface RegionSource {
  id: string;
  /** ODS code of the organisation that owns the source system. */
  org: string;
  kind: 'fhir' | 'hl7v2' | 'batch';
  name: string;
}

export interface RegionSpec {
  organisations: RegionOrganisation[];
  sources: RegionSource[];
}

export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';

/** Source ids, fixed so that tests, demo scripts and benchmarks can name them. */
export const SOURCE_IDS = {
  gp1: 'gp-y90001',
  gp2: 'gp-y90002',
  gp3: 'gp-y90003',
  acute: 'acute-rx1',
  community: 'community-rx2',
  socialCare: 'social-care-la901',
  outOfHours: 'ooh-nx1',
  lab: 'lab-nl901',
  /** the acute trust's patient administration and document systems, sending HL7 v2 */
  acutePas: 'pas-rx1',
} as const;

const ORGANISATIONS: readonly RegionOrganisation[] = [
  { ods: 'Y90001', name: 'Northdale Medical Practice', kind: 'gp', contributes: true, views: true },
  { ods: 'Y90002', name: 'Riverside Surgery', kind: 'gp', contributes: true, views: true },
  { ods: 'Y90003', name: 'Kingsmead Health Centre', kind: 'gp', contributes: true, views: true },
  {
    ods: 'RX1',
    name: 'Northdale Teaching Hospitals NHS Foundation Trust',
    kind: 'acute',
    contributes: true,
    views: true,
    // the demo's one declared data set; the others show what their kind usually shares
    dataSet: {
      categories: [
        'Diagnoses and procedures',
        'Test results (pathology and radiology)',
        'A&E attendances, admissions and discharges',
        'Outpatient appointments',
        'Discharge summaries and clinic letters',
      ],
      from: '2018-04-01',
    },
  },
  {
    ods: 'RX2',
    name: 'Northdale Community and Mental Health NHS Trust',
    kind: 'community-mental-health',
    contributes: true,
    views: true,
  },
  {
    ods: 'LA901',
    name: 'Northdale Council Adult Social Care',
    kind: 'social-care',
    contributes: true,
    views: true,
  },
  {
    ods: 'NX1',
    name: 'Northdale Integrated Urgent Care (NHS 111 and GP Out of Hours)',
    kind: 'out-of-hours',
    contributes: true,
    views: true,
  },
  // Views only: a hospice. OrgKind has no 'hospice', so it is filed as a community provider.
  {
    ods: 'NH901',
    name: "St Aidan's Hospice",
    kind: 'community-mental-health',
    contributes: false,
    views: true,
  },
  // Contributes only: a private pathology lab (its kind says what it shares: test results).
  {
    ods: 'NL901',
    name: 'Northdale Pathology Partnership Ltd',
    kind: 'pathology',
    contributes: true,
    views: false,
  },
];

const SOURCES: readonly RegionSource[] = [
  { id: SOURCE_IDS.gp1, org: 'Y90001', kind: 'fhir', name: 'Northdale Medical Practice GP clinical system' },
  { id: SOURCE_IDS.gp2, org: 'Y90002', kind: 'fhir', name: 'Riverside Surgery GP clinical system' },
  { id: SOURCE_IDS.gp3, org: 'Y90003', kind: 'fhir', name: 'Kingsmead Health Centre GP clinical system' },
  { id: SOURCE_IDS.acute, org: 'RX1', kind: 'fhir', name: 'Northdale Teaching Hospitals EPR' },
  { id: SOURCE_IDS.community, org: 'RX2', kind: 'fhir', name: 'Northdale Community and Mental Health EPR' },
  {
    id: SOURCE_IDS.socialCare,
    org: 'LA901',
    kind: 'batch',
    name: 'Northdale Council social care case system',
  },
  { id: SOURCE_IDS.outOfHours, org: 'NX1', kind: 'fhir', name: 'Northdale 111 and Out of Hours system' },
  { id: SOURCE_IDS.lab, org: 'NL901', kind: 'fhir', name: 'Northdale Pathology Partnership LIMS' },
  {
    id: SOURCE_IDS.acutePas,
    org: 'RX1',
    kind: 'hl7v2',
    name: 'Northdale Teaching Hospitals PAS, lab and document system (HL7 v2)',
  },
];

export function regionSpec(): RegionSpec {
  return {
    organisations: ORGANISATIONS.map((o) => ({
      ...o,
      ...(o.dataSet ? { dataSet: { ...o.dataSet, categories: [...o.dataSet.categories] } } : {}),
    })),
    sources: SOURCES.map((s) => ({ ...s })),
  };
}

/** Sources that are written as FHIR Bundles instead of NDJSON, and which Bundle type. */
export const BUNDLE_SOURCES: ReadonlyMap<string, 'transaction' | 'collection'> = new Map([
  [SOURCE_IDS.outOfHours, 'transaction'],
  [SOURCE_IDS.lab, 'collection'],
]);
