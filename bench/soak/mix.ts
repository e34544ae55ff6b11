/**
 * The soak's mix, as a clinical region sends it: clinicians open records (typical persons, and now
 * and then one of the heavy long tail) and search one section; sources send FHIR resources and HL7
 * v2 messages; the data protection officer runs an access report. Every stream is open-loop at a
 * fixed rate (load.ts).
 */
import type { Patient } from '@medplum/fhirtypes';
import { generatePerson, regionSpec, BUNDLE_SOURCES, SOURCE_IDS } from '../../src/generate/index.ts';
import {
  drawKind,
  feedMessage,
  feedPerson,
  feedPersonFrom,
  type FeedPerson,
} from '../../src/generate/hl7-feed.ts';
import { Rng } from '../../src/generate/random.ts';
import { httpGet } from './http-get.ts';
import { httpOutcome, type Job, type Outcome, type StreamSpec } from './load.ts';

export interface SoakRates {
  /** typical record opens per second */
  opens: number;
  /** heavy-record opens per second (the long tail: thousands of items) */
  heavyOpens: number;
  /** section searches per second */
  searches: number;
  /** FHIR resources per second through POST /ingest/fhir */
  intake: number;
  /** HL7 v2 messages per second through POST /ingest/hl7v2 */
  hl7: number;
  /** DPO access reports per minute */
  dpoPerMinute: number;
}

/** A person in the store whom the clinicians at their GP practice open. */
export interface OpenTarget {
  personId: string;
  nhsNumber: string;
  /** bearer tokens of the practice's clinicians; each request is made by one of them at random */
  clinicians: readonly string[];
  heavy: boolean;
}

export interface MixInput {
  baseUrl: string;
  targets: OpenTarget[];
  /** persons [from, …) are not loaded: intake sends them */
  intakeFrom: number;
  seed: number;
  now: Date;
  sourceToken(id: string): Promise<string>;
  dpoToken: string;
  /** the hospital's patients among the persons the soak opens, for its HL7 v2 feed */
  feedPersons: FeedPerson[];
  rates: SoakRates;
  /** how long the load runs: the intake and HL7 v2 streams are written for this long beforehand */
  seconds: number;
}

/** Sections a clinician opens on their own (FHIR type and a search that narrows it). */
const SECTIONS = [
  'Observation?date=ge2020-01-01',
  'MedicationRequest?status=active',
  'Condition?',
  'AllergyIntolerance?',
  'Encounter?date=ge2020-01-01',
];

export async function buildMix(m: MixInput): Promise<StreamSpec[]> {
  const rng = new Rng(m.seed, 17);
  const typical = m.targets.filter((t) => !t.heavy);
  const heavy = m.targets.filter((t) => t.heavy);
  const open = (pool: OpenTarget[]) => (): Job | undefined => {
    const t = rng.pick(pool);
    return {
      weight: 1,
      run: (signal) =>
        httpGet(`${m.baseUrl}/fhir/Patient/${t.personId}/$everything`, rng.pick(t.clinicians), signal),
    };
  };
  const search = (): Job => {
    const t = rng.pick(typical);
    const [type, query] = rng.pick(SECTIONS).split('?') as [string, string];
    const url = `${m.baseUrl}/fhir/${type}?patient=${t.personId}${query ? `&${query}` : ''}`;
    const token = rng.pick(t.clinicians);
    return { weight: 1, run: (signal) => httpGet(url, token, signal) };
  };
  const dpo = (): Job => {
    const t = rng.pick(m.targets);
    const url = `${m.baseUrl}/dpo/access-report?person=${t.nhsNumber}`;
    return { weight: 1, run: (signal) => httpGet(url, m.dpoToken, signal) };
  };

  const streams: StreamSpec[] = [
    { op: 'open', rate: m.rates.opens, next: open(typical) },
    { op: 'search', rate: m.rates.searches, next: search },
    { op: 'intake', rate: m.rates.intake, next: await intakeJobs(m, Math.ceil(m.rates.intake * m.seconds)) },
    { op: 'hl7v2', rate: m.rates.hl7, next: await hl7Jobs(m, Math.ceil(m.rates.hl7 * m.seconds)) },
    { op: 'dpo-report', rate: m.rates.dpoPerMinute / 60, next: dpo },
  ];
  if (heavy.length > 0) streams.push({ op: 'open-heavy', rate: m.rates.heavyOpens, next: open(heavy) });
  return streams;
}

/** Sources that send NDJSON (the others send transaction Bundles or batch files, loaded at set-up). */
const NDJSON_SOURCES = new Set(
  regionSpec()
    .sources.filter((s) => s.kind === 'fhir' && !BUNDLE_SOURCES.has(s.id))
    .map((s) => s.id),
);

/**
 * New persons' records, one request per person and source (their Patient first, as a source sends
 * a new registration), weighted by the resources it carries. Generated before the load starts,
 * `resources` in all: generating a person (a heavy one has thousands of resources) and
 * serialising it took the harness's event loop for up to hundreds of milliseconds in the middle of
 * the run, and every request due meanwhile went out late, counted as the server's latency.
 */
async function intakeJobs(m: MixInput, resources: number): Promise<() => Job | undefined> {
  const spec = regionSpec();
  const tokens = new Map<string, string>();
  for (const id of NDJSON_SOURCES) tokens.set(id, await m.sourceToken(id));
  const requests: { source: string; body: string; n: number }[] = [];
  let planned = 0;
  for (let index = m.intakeFrom; planned < resources; index++) {
    const p = generatePerson(spec, index, m.seed, m.now);
    for (const [id, list] of p.bySource) {
      if (!NDJSON_SOURCES.has(id) || list.length === 0) continue;
      requests.push({
        source: id,
        body: `${list.map((r) => JSON.stringify(r)).join('\n')}\n`,
        n: list.length,
      });
      planned += list.length;
    }
  }
  let next = 0;
  return () => {
    const req = requests[next++];
    if (!req) return undefined;
    const token = tokens.get(req.source)!;
    return {
      weight: req.n,
      run: (signal) =>
        fetch(`${m.baseUrl}/ingest/fhir`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+ndjson' },
          body: req.body,
          signal,
        }).then((r) => httpOutcome(r)),
    };
  };
}

/**
 * The hospital's HL7 v2 feed about its own patients (ADT, ORU, MDM, SIU in a realistic mix):
 * `count` messages, written before the load starts (as the intake's records are).
 */
async function hl7Jobs(m: MixInput, count: number): Promise<() => Job | undefined> {
  const token = await m.sourceToken(SOURCE_IDS.acutePas);
  const rng = new Rng(m.seed, 2575, 1);
  // message control ids unique to this run: the store refuses a repeated one as a duplicate
  let n = Date.now() % 1e9;
  const texts: string[] = [];
  const others = otherFeedPersons(m.seed);
  for (let i = 0; i < count; i++)
    texts.push(
      feedMessage(drawKind(rng), feedTarget(rng, m.feedPersons, others), ++n, m.now, rng, {
        application: SOURCE_IDS.acutePas,
        facility: 'RX1',
      }),
    );
  let next = 0;
  return () => {
    const text = texts[next++];
    if (text === undefined) return undefined;
    return {
      weight: 1,
      run: async (signal): Promise<Outcome> => {
        const res = await fetch(`${m.baseUrl}/ingest/hl7v2`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'x-application/hl7-v2+er7' },
          body: text,
          signal,
        });
        const ack = await res.text();
        if (res.status !== 200) return { ok: false, kind: `http ${res.status}` };
        const code = /\rMSA\|(A[AER])/.exec(ack)?.[1] ?? 'none';
        return code === 'AA' ? { ok: true } : { ok: false, kind: `ack ${code}` };
      },
    };
  };
}

/**
 * Who a feed message is about: one of the opened persons one time in ten, otherwise one of the
 * hospital's other patients. With every message about the ~180 opened hospital patients (5 a
 * second), their records grew through the run, and the soak measured that growth as a creep: in
 * 40 minutes at 60 opens/s the typical open went from 313 to 395 items (pg_stat_statements on the
 * soak's own server, 2026-12-06), and the database's and the server's CPU per open rose with it.
 * A region's feed is spread over hundreds of thousands of people. One in ten keeps results
 * arriving for records being read, with their records growing ~10 times more slowly.
 */
export const OPENED_FEED_SHARE = 0.1;
/** The hospital's other patients: numbered far past the loaded and intake persons. */
const OTHER_FEED_PERSONS = { from: 5_000_000, count: 2000 };

const otherFeedPersons = (seed: number): FeedPerson[] =>
  Array.from({ length: OTHER_FEED_PERSONS.count }, (_, i) => feedPerson(OTHER_FEED_PERSONS.from + i, seed));

function feedTarget(rng: Rng, opened: FeedPerson[], others: FeedPerson[]): FeedPerson {
  return opened.length > 0 && rng.chance(OPENED_FEED_SHARE) ? rng.pick(opened) : rng.pick(others);
}

/** The feed persons of the loaded region: the hospital's patients among the first `persons`. */
export function hospitalPatients(persons: number, seed: number, now: Date): FeedPerson[] {
  const spec = regionSpec();
  const out: FeedPerson[] = [];
  for (let i = 0; i < persons; i++) {
    const acute = generatePerson(spec, i, seed, now).bySource.get(SOURCE_IDS.acute);
    const patient = acute?.find((r): r is Patient => r.resourceType === 'Patient');
    const fp = patient ? feedPersonFrom(patient) : undefined;
    if (fp) out.push(fp);
  }
  return out;
}
