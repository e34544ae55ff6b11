/**
 * A hospital's HL7 v2 traffic for synthetic people, as a patient administration system, a
 * laboratory and a document system send it: admissions and attendances (ADT A01/A04, discharge
 * A03), results (ORU^R01 with numeric OBX, units and reference ranges), clinic letters
 * (MDM^T02) and outpatient appointments (SIU^S12). UK conventions: NHS number in PID-3 typed NH,
 * hospital number as MR, ODS code in MSH-4, times without a zone (local time), segments separated
 * by CR. NHS numbers come from the 999 test range only.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Patient, Resource } from '@medplum/fhirtypes';
import { FBC, LFT, TFT, UE, type Panel } from './hospital-codes.ts';
import { FAMILY_NAMES, FEMALE_GIVEN, MALE_GIVEN, TOWNS, POSTCODE_LETTERS } from './names.ts';
import { deriveNhsNumber } from './nhs-numbers.ts';
import { Rng } from './random.ts';

export interface FeedPerson {
  nhs: string;
  hospitalNo: string;
  family: string;
  given: string;
  sex: 'M' | 'F';
  birth: string;
  postcode: string;
  town: string;
}

export type FeedMessageKind = 'ADT^A01' | 'ADT^A04' | 'ADT^A03' | 'ORU^R01' | 'MDM^T02' | 'SIU^S12';

/** The realistic mix (share of messages) a hospital feed carries. */
export const FEED_MIX: readonly (readonly [FeedMessageKind, number])[] = [
  ['ADT^A04', 0.2],
  ['ADT^A01', 0.1],
  ['ADT^A03', 0.1],
  ['ORU^R01', 0.35],
  ['MDM^T02', 0.1],
  ['SIU^S12', 0.15],
];

const PANELS: readonly Panel[] = [FBC, UE, LFT, TFT];

export function feedPerson(index: number, seed: number): FeedPerson {
  const rng = new Rng(seed, index, 7);
  const sex = rng.chance(0.5) ? 'F' : 'M';
  const [town, districts] = rng.pick(TOWNS);
  return {
    nhs: deriveNhsNumber(index, seed),
    hospitalNo: `RX1${String(100000 + index)}`,
    family: rng.pick(FAMILY_NAMES).toUpperCase(),
    given: rng.pick(sex === 'F' ? FEMALE_GIVEN : MALE_GIVEN),
    sex,
    birth: `${rng.int(1930, 2020)}${pad(rng.int(1, 12))}${pad(rng.int(1, 28))}`,
    postcode: `ND${rng.pick(districts)} ${rng.int(1, 9)}${rng.pick([...POSTCODE_LETTERS])}${rng.pick([...POSTCODE_LETTERS])}`,
    town,
  };
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** An HL7 v2 timestamp (local time, no zone) for a Date. */
function ts(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

export interface FeedOptions {
  /** MSH-3: the sending application, also the source id Sharedcare knows it by */
  application: string;
  /** MSH-4: the sending facility's ODS code */
  facility: string;
}

/** One message of the given kind about a person; `n` makes its ids (MSH-10, visit, order) unique. */
export function feedMessage(
  kind: FeedMessageKind,
  p: FeedPerson,
  n: number,
  when: Date,
  rng: Rng,
  o: FeedOptions,
): string {
  const [type, event] = kind.split('^') as [string, string];
  const msh = `MSH|^~\\&|${o.application}|${o.facility}|SHAREDCARE|REGION|${ts(when)}||${type}^${event}|${o.application}-${n}|P|2.4|||AL|NE|GBR|UNICODE UTF-8`;
  // the person's home and phone stay the same from message to message, as in a real feed (drawn per
  // message, every message changed the Patient, and intake re-ran identity matching for each one)
  const home = new Rng(Number(p.nhs.slice(-7)) || 1, 11);
  const pid = `PID|1||${p.hospitalNo}^^^${o.facility}^MR~${p.nhs}^^^NHS^NH||${p.family}^${p.given}^^^${p.sex === 'F' ? 'Ms' : 'Mr'}^^L||${p.birth}|${p.sex}|||${home.int(1, 200)} ${home.pick(['High', 'Station', 'Church', 'Mill'])} Street^^${p.town}^^${p.postcode}^GBR^H||07700 900${pad(home.int(0, 999), 3)}`;
  const visit = `V${n}`;
  const pv1 = (cls: string, loc: string, end?: Date) =>
    [
      'PV1',
      '1',
      cls,
      `${loc}^^^${o.facility}`,
      '',
      '',
      '',
      'C1234567^Shah^Anita^^^Dr',
      '',
      '',
      rng.pick(['300', '110', '320', '430', '502']),
      ...Array<string>(8).fill(''),
      visit,
      ...Array<string>(24).fill(''),
      ts(new Date(when.getTime() - 3_600_000)),
      end ? ts(end) : '',
    ].join('|');
  switch (kind) {
    case 'ADT^A01':
      return [msh, `EVN|A01|${ts(when)}`, pid, pv1('I', rng.pick(['WARD7', 'WARD12', 'AMU']))].join('\r');
    case 'ADT^A04':
      return [
        msh,
        `EVN|A04|${ts(when)}`,
        pid,
        pv1(rng.chance(0.5) ? 'E' : 'O', rng.pick(['ED', 'CARDIO1', 'DIAB2', 'RENAL1'])),
      ].join('\r');
    case 'ADT^A03':
      return [msh, `EVN|A03|${ts(when)}`, pid, pv1('I', 'WARD7', when)].join('\r');
    case 'ORU^R01': {
      const panel = rng.pick(PANELS);
      const obx = panel.analytes.map((a, i) => {
        const value = rng.normal((a.low + a.high) / 2, (a.high - a.low) / 3).toFixed(a.decimals);
        const flag = Number(value) < a.low ? 'L' : Number(value) > a.high ? 'H' : 'N';
        return `OBX|${i + 1}|NM|${a.code}^${a.display}^LN||${value}|${a.unit}^${a.unit}^UCUM|${a.low}-${a.high}|${flag}|||F|||${ts(when)}`;
      });
      return [
        msh,
        pid,
        `OBR|1|ORD${n}|LAB${n}|${panel.code}^${panel.display}^LN|||${ts(when)}|||||||||||||||${ts(when)}||LAB|F`,
        ...obx,
      ].join('\r');
    }
    case 'MDM^T02':
      return [
        msh,
        `EVN|T02|${ts(when)}`,
        pid,
        'PV1|1|O',
        `TXA|1|CL^Clinic letter^L|TX|${ts(when)}||||||||DOC${n}||||||AU`,
        `OBX|1|TX|LETTER^Clinic letter^L||Dear Dr Patel,~I saw ${p.given} in clinic today. Blood pressure ${rng.int(110, 160)}/${rng.int(60, 95)}. Plan: continue current treatment and review in ${rng.int(2, 6)} months.~Yours sincerely,~Dr A Shah||||||F`,
      ].join('\r');
    case 'SIU^S12': {
      const start = new Date(when.getTime() + rng.int(1, 60) * 86_400_000);
      return [
        msh,
        `SCH|P${n}|APT${n}|||||FOLLOWUP^Follow-up^L||20|MIN|^^20^${ts(start)}`,
        pid,
        `AIS|1||${rng.pick(['CARDIO', 'DIAB', 'RENAL'])}^Outpatient clinic^L|${ts(start)}`,
        `AIL|1||${rng.pick(['CARDIO1', 'DIAB2', 'RENAL1'])}^^^${o.facility}`,
      ].join('\r');
    }
  }
}

/** A message kind drawn from the mix. */
export function drawKind(rng: Rng): FeedMessageKind {
  let x = rng.next();
  for (const [kind, share] of FEED_MIX) {
    if (x < share) return kind;
    x -= share;
  }
  return 'ORU^R01';
}

/** The feed's view of a person, from the hospital's own FHIR Patient (as its PAS would hold it). */
export function feedPersonFrom(patient: Patient): FeedPerson | undefined {
  const nhs = patient.identifier?.find((i) => i.system === 'https://fhir.nhs.uk/Id/nhs-number')?.value ?? '';
  const name = patient.name?.[0];
  if (!patient.id || !name?.family || !patient.birthDate) return undefined;
  const address = patient.address?.[0];
  return {
    nhs,
    hospitalNo: patient.id,
    family: name.family.toUpperCase(),
    given: name.given?.[0] ?? '',
    sex: patient.gender === 'female' ? 'F' : 'M',
    birth: patient.birthDate.replace(/-/g, ''),
    postcode: address?.postalCode ?? '',
    town: address?.city ?? '',
  };
}

/**
 * Writes a hospital's HL7 v2 feed as batch files (FHS/BHS … BTS/FTS, 500 persons a file): for each
 * person the hospital knows, an attendance, results, a clinic letter and a follow-up appointment.
 */
export class Hl7FeedWriter {
  private messages: string[] = [];
  private persons = 0;
  private files = 0;
  private n = 0;
  private readonly rng: Rng;

  constructor(
    private readonly dir: string,
    private readonly options: FeedOptions,
    seed: number,
    private readonly now: Date,
  ) {
    this.rng = new Rng(seed, 2575);
  }

  /** Adds a person's messages; returns how many. */
  async addPerson(resources: readonly Resource[]): Promise<number> {
    const patient = resources.find((r): r is Patient => r.resourceType === 'Patient');
    const person = patient ? feedPersonFrom(patient) : undefined;
    if (!person) return 0;
    const kinds: FeedMessageKind[] = ['ADT^A04', 'ORU^R01', 'MDM^T02', 'SIU^S12'];
    for (const kind of kinds) {
      const when = new Date(this.now.getTime() - this.rng.int(1, 700) * 86_400_000);
      this.messages.push(feedMessage(kind, person, ++this.n, when, this.rng, this.options));
    }
    if (++this.persons % 500 === 0) await this.flush();
    return kinds.length;
  }

  private async flush(): Promise<void> {
    if (this.messages.length === 0) return;
    const stamp = ts(this.now);
    const text = [
      `FHS|^~\\&|${this.options.application}|${this.options.facility}|SHAREDCARE|REGION|${stamp}`,
      `BHS|^~\\&|${this.options.application}|${this.options.facility}|SHAREDCARE|REGION|${stamp}`,
      ...this.messages.map((m) => m.replace(/\r/g, '\n')),
      `BTS|${this.messages.length}`,
      'FTS|1',
    ].join('\n');
    this.messages = [];
    await writeFile(join(this.dir, `feed-${String(++this.files).padStart(4, '0')}.hl7`), `${text}\n`);
  }

  async close(): Promise<number> {
    await this.flush();
    return this.files;
  }
}
