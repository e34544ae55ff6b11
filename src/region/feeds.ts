/**
 * What each contributing organisation shares and how current its feed is: the viewer's sources
 * panel, so that a clinician knows what the absence of information means.
 *
 * A source that relays changes as they happen (FHIR, HL7 v2) is a live feed; a batch source sends
 * files (for example twice a day) and is as current as its last batch. "Connected since" is when
 * the source system was registered with Sharedcare.
 *
 * The data set (which categories an organisation shares, from which date) is what the organisation
 * declared (its data-sharing agreement, in the region's configuration or `sharedcare org add
 * --shares`); an organisation that declared none is described by what its kind of organisation
 * usually shares, and says so (`declared: false`).
 */
import type { Queryable } from '../db/index.ts';

export interface SourceFeed {
  id: string;
  name: string | null;
  mode: 'live' | 'batch';
  connectedSince: string;
  lastReceivedAt: string | null;
}

export interface ContributorFeeds {
  ods: string;
  name: string;
  kind: string | null;
  dataSet: { categories: string[]; declared: boolean; from: string | null };
  sources: SourceFeed[];
}

/** What each kind of organisation usually shares (the national and regional norm). */
export const USUAL_DATA_SETS: Record<string, string[]> = {
  gp: [
    'Demographics and registered practice',
    'Problems and diagnoses',
    'Medications',
    'Allergies and reactions',
    'Immunisations',
    'Test results',
    'Consultations and appointments',
    'Referrals',
    'Letters',
  ],
  acute: [
    'Diagnoses and procedures',
    'Test results (pathology and radiology)',
    'A&E attendances, admissions and discharges',
    'Outpatient appointments',
    'Clinic letters and discharge summaries',
  ],
  'community-mental-health': [
    'Community and mental health episodes',
    'Care teams and care plans',
    'Visits and contacts',
    'Mental health diagnoses and assessments',
    'Letters',
  ],
  'social-care': ['Social care cases', 'Assessments and reviews', 'Care packages'],
  'out-of-hours': ['NHS 111 calls', 'Out-of-hours consultations and their reports'],
  pathology: ['Pathology test results'],
};

const iso = (v: string | Date | null): string | null => (v === null ? null : new Date(v).toISOString());

export async function contributorFeeds(db: Queryable): Promise<ContributorFeeds[]> {
  const { rows } = await db.query<{
    ods: string;
    name: string;
    kind: string | null;
    source_id: string | null;
    source_name: string | null;
    source_kind: string | null;
    created_at: string | Date | null;
    last_received_at: string | Date | null;
    data_set: string[] | null;
    data_set_from: string | null;
  }>(
    `SELECT o.ods, o.name, o.kind, o.data_set, o.data_set_from::text AS data_set_from, s.id AS source_id, s.name AS source_name, s.kind AS source_kind,
            s.created_at, s.last_received_at
     FROM organisation o LEFT JOIN source_system s ON s.org_ods = o.ods
     WHERE o.contributes ORDER BY o.name, s.id`,
  );
  const byOrg = new Map<string, ContributorFeeds>();
  for (const r of rows) {
    let org = byOrg.get(r.ods);
    if (!org) {
      org = {
        ods: r.ods,
        name: r.name,
        kind: r.kind,
        dataSet: r.data_set
          ? { categories: r.data_set, declared: true, from: r.data_set_from }
          : { categories: USUAL_DATA_SETS[r.kind ?? ''] ?? [], declared: false, from: null },
        sources: [],
      };
      byOrg.set(r.ods, org);
    }
    if (r.source_id) {
      org.sources.push({
        id: r.source_id,
        name: r.source_name,
        mode: r.source_kind === 'batch' ? 'batch' : 'live',
        connectedSince: iso(r.created_at)!,
        lastReceivedAt: iso(r.last_received_at),
      });
    }
  }
  return [...byOrg.values()];
}
