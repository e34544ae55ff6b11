/**
 * A person's health story, drawn once and shared by every source so that the records agree: chronic
 * problems (GP), hospital journeys (acute trust, and the GP's referrals and letters), community
 * episodes, and which organisations know the person at all.
 */
import { COMMUNITY_SERVICES, type CommunityService } from './care-codes.ts';
import { DAY_MS, YEAR_MS } from './fhir-build.ts';
import { CHRONIC_CONDITIONS, type ChronicCondition, type Coded, type Medicine } from './gp-codes.ts';
import { CLINICS, ED_REASONS } from './hospital-codes.ts';
import type { TrueIdentity } from './identity.ts';
import type { Rng } from './random.ts';
import { pickSensitiveCategories } from './sensitive-records.ts';

/** How far back records go. */
export const HISTORY_YEARS = 15;

export interface HeldCondition {
  def: ChronicCondition;
  onset: number;
  meds: Medicine[];
}

export interface Admission {
  start: number;
  /** Undefined while the person is still in hospital. */
  end?: number;
  reason: Coded;
  viaEd: boolean;
}

export interface EdVisit {
  start: number;
  reason: Coded;
}

export interface Pathway {
  clinic: Coded;
  referred: number;
  visits: number[];
}

export interface CommunityEpisode {
  service: CommunityService;
  start: number;
  /** Undefined while the episode is open. */
  end?: number;
}

export interface PersonPlan {
  index: number;
  truth: TrueIdentity;
  now: number;
  /** Start of the record window: birth, or HISTORY_YEARS ago. */
  from: number;
  age: number;
  heavy: boolean;
  /** Multiplier on how much care the person uses (about 1 on average, ~10 for heavy users). */
  intensity: number;
  conditions: HeldCondition[];
  mentalHealth: boolean;
  sensitive: string[];
  at: { acute: boolean; community: boolean; socialCare: boolean; outOfHours: boolean; lab: boolean };
  edVisits: EdVisit[];
  admissions: Admission[];
  pathways: Pathway[];
  episodes: CommunityEpisode[];
}

function drawConditions(rng: Rng, age: number, birth: number, now: number, heavy: boolean): HeldCondition[] {
  const held: HeldCondition[] = [];
  for (const def of CHRONIC_CONDITIONS) {
    if (age < def.minAge || age > (def.maxAge ?? 200)) continue;
    if (!rng.chance(Math.min(0.9, def.prevalence * (heavy ? 3 : 1)))) continue;
    const earliest = Math.max(birth + def.minAge * YEAR_MS, now - 25 * YEAR_MS);
    const onset = earliest + rng.next() * Math.max(0, now - 60 * DAY_MS - earliest);
    const meds = def.meds.filter((_, i) => i === 0 || rng.chance(0.4));
    held.push({ def, onset, meds });
  }
  return held;
}

function drawJourney(rng: Rng, plan: PersonPlan): void {
  const { now, from, intensity } = plan;
  const years = (now - from) / YEAR_MS;
  const span = (): number => from + rng.next() * (now - from);
  for (let i = rng.count(years * 0.1 * intensity); i > 0; i--) {
    const visit = { start: span(), reason: rng.pick(ED_REASONS) };
    plan.edVisits.push(visit);
    if (rng.chance(0.3)) plan.admissions.push({ ...visit, viaEd: true });
  }
  for (let i = rng.count(years * 0.03 * intensity); i > 0; i--) {
    plan.admissions.push({ start: span(), reason: rng.pick(ED_REASONS), viaEd: false });
  }
  for (const a of plan.admissions) {
    const days = Math.min(40, 1 + Math.floor(Math.exp(rng.normal(1, 0.8))));
    a.end = a.start + days * DAY_MS;
    if (a.end > now) a.end = undefined;
  }
  const pathways = rng.count(years * 0.1 * intensity);
  const recent = rng.chance(0.5);
  for (let i = 0; i < pathways + (recent ? 1 : 0); i++) {
    const referred = i === pathways ? now - rng.between(30, 300) * DAY_MS : span();
    const visits: number[] = [];
    let t = referred + rng.between(14, 90) * DAY_MS;
    for (let v = rng.int(1, 5); v > 0 && t < now; v--) {
      visits.push(t);
      t += rng.between(30, 180) * DAY_MS;
    }
    plan.pathways.push({ clinic: rng.pick(CLINICS), referred, visits });
  }
}

function drawEpisodes(rng: Rng, plan: PersonPlan): void {
  const pool = COMMUNITY_SERVICES.filter((s) =>
    plan.mentalHealth ? s.mentalHealth || plan.age > 70 : !s.mentalHealth,
  );
  const n = plan.heavy ? rng.int(2, 4) : rng.chance(0.25) ? 2 : 1;
  for (let i = 0; i < n; i++) {
    const service = rng.pick(pool);
    const open = rng.chance(0.45);
    const start = open
      ? plan.now - rng.between(20, 330) * DAY_MS
      : plan.from + rng.next() * Math.max(0, plan.now - plan.from - 120 * DAY_MS);
    const end = open ? undefined : Math.min(plan.now - DAY_MS, start + rng.between(30, 360) * DAY_MS);
    plan.episodes.push({ service, start: Math.max(start, plan.from), end });
  }
}

export function drawPlan(rng: Rng, index: number, truth: TrueIdentity, now: number): PersonPlan {
  const age = (now - truth.birthMs) / YEAR_MS;
  const heavy = age >= 18 && rng.chance(0.025);
  const ageFactor = 0.5 + Math.min(age, 95) / 55;
  const spread = Math.exp(heavy ? rng.normal(0, 0.2) : rng.normal(-0.125, 0.5));
  const intensity = heavy ? spread * Math.max(ageFactor, 1.4) * rng.between(7, 10) : spread * ageFactor;
  const conditions = drawConditions(rng, age, truth.birthMs, now, heavy);
  const mentalHealth = conditions.some((c) => c.def.mentalHealth === true);
  const sensitive = age >= 16 && rng.chance(0.011) ? pickSensitiveCategories(rng, truth.sex) : [];
  const at = {
    acute: heavy || rng.chance(0.6),
    community: rng.chance(heavy ? 0.7 : mentalHealth ? 0.6 : 0.19),
    socialCare: age >= 18 && rng.chance(heavy ? 0.5 : age >= 75 ? 0.35 : 0.06),
    outOfHours: rng.chance(heavy ? 0.8 : 0.2),
    lab: age >= 18 && rng.chance(0.15),
  };
  const from = Math.max(truth.birthMs, now - HISTORY_YEARS * YEAR_MS);
  const plan: PersonPlan = {
    index,
    truth,
    now,
    from,
    age,
    heavy,
    intensity,
    conditions,
    mentalHealth,
    sensitive,
    at,
    edVisits: [],
    admissions: [],
    pathways: [],
    episodes: [],
  };
  if (at.acute) drawJourney(rng, plan);
  if (at.community) drawEpisodes(rng, plan);
  return plan;
}
