/**
 * HL7 v2 messages that arrive together go through the intake pipeline in passes of several
 * patients (src/ingest/hl7v2/passes.ts). What a region ends up holding must not depend on that:
 * the same feed sent one message at a time, and sent all at once into one lane (so that it is
 * committed in batches, in passes), gives the same persons, source records, items, versions,
 * labels and relationships, and the same answers. And an AE in a pass undoes that message alone.
 */
import type { Database, QueryResult } from '../src/db/index.ts';
import { describe, expect, it } from 'vitest';
import { drawKind, feedMessage, feedPerson, type FeedPerson } from '../src/generate/hl7-feed.ts';
import { Rng } from '../src/generate/random.ts';
import { createHl7Intake } from '../src/ingest/index.ts';
import { getSource, upsertSource } from '../src/region/index.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';

const SOURCE = 'rx1-pas';
const FEED = { application: SOURCE, facility: 'RX1' };

/**
 * A hospital feed: 60 messages about 12 people (some several times), and among them what makes
 * order matter: a stay admitted and then discharged (one Encounter, two versions), a result and its
 * correction, and a record under an old hospital number without an NHS number that the PAS then
 * merges into the person's current one, in the very next message.
 */
function feed(): string[] {
  const rng = new Rng(7, 3, 1);
  const people = Array.from({ length: 12 }, (_, i) => feedPerson(i, 99));
  const at = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 60_000);
  const messages = Array.from({ length: 60 }, (_, n) =>
    feedMessage(drawKind(rng), people[rng.int(0, 11)]!, n + 1, at(n), rng, FEED),
  );
  const msh = (type: string, control: string, when: string) =>
    `MSH|^~\\&|${SOURCE}|RX1|SHAREDCARE|REGION|${when}||${type}|${control}|P|2.4`;
  const pid = (
    p: FeedPerson,
    hospitalNo = p.hospitalNo,
    nhs = p.nhs,
    family = p.family,
    postcode = p.postcode,
  ) =>
    `PID|1||${hospitalNo}^^^RX1^MR${nhs ? `~${nhs}^^^NHS^NH` : ''}||${family}^${p.given}||${p.birth}|${p.sex}|||1 Mill Street^^${p.town}^^${postcode}^GBR^H`;
  const pv1 = (visit: string, admitted: string, discharged = '') =>
    `PV1|1|I|WARD7^^^RX1|||||||300|||||||||${visit}|||||||||||||||||||||||||${admitted}|${discharged}`;
  const stay = people[1]!;
  const admit = [
    msh('ADT^A01^ADT_A01', 'STAY-1', '20260101100000'),
    'EVN|A01|20260101100000',
    pid(stay),
    pv1('VSTAY', '20260101100000'),
  ];
  const discharge = [
    msh('ADT^A03^ADT_A03', 'STAY-2', '20260102100000'),
    'EVN|A03|20260102100000',
    pid(stay),
    pv1('VSTAY', '20260101100000', '20260102100000'),
  ];
  const lab = people[2]!;
  const result = (control: string, value: string, status: string) =>
    [
      msh('ORU^R01^ORU_R01', control, '20260101110000'),
      pid(lab),
      `OBR|1|ORDFIX|LABFIX|24326-1^Electrolytes panel^LN|||20260101090000||||||||||||||||||${status}`,
      `OBX|1|NM|2823-3^Potassium^LN||${value}|mmol/L^mmol/L^UCUM|3.5-5.3|N|||${status}|||20260101090000`,
    ].join('\r');
  const p = people[0]!;
  const old = 'RX1OLD0001';
  const oldVisit = [
    msh('ADT^A04^ADT_A01', 'OLD-1', '20260101120000'),
    'EVN|A04|20260101120000',
    pid(p, old, '', 'MAIDENNAME', 'ZZ9 9ZZ'),
    `PV1|1|O|CLINIC^^^RX1|||||||300|||||||||VOLD1|||||||||||||||||||||||||20260101110000`,
  ];
  const merge = [
    msh('ADT^A40^ADT_A39', 'MERGE-1', '20260101130000'),
    'EVN|A40|20260101130000',
    pid(p),
    `MRG|${old}^^^RX1^MR`,
  ];
  messages.splice(3, 0, admit.join('\r'), result('FIX-1', '5.9', 'F'));
  messages.splice(6, 0, discharge.join('\r'), result('FIX-2', '4.1', 'C'));
  messages.splice(12, 0, oldVisit.join('\r'), merge.join('\r'));
  return messages;
}

/** Counts the statements that write clinical items (through transactions too). */
function countingItemWrites(inner: Database): { db: Database; writes: () => number } {
  let n = 0;
  const wrap = <T extends { query: Database['query'] }>(q: T) => ({
    query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      if (/INSERT INTO clinical_item\b/.test(sql)) n++;
      return q.query<R>(sql, params);
    },
  });
  const db: Database = {
    ...inner,
    ...wrap(inner),
    transaction: (fn) => inner.transaction((tx) => fn(wrap(tx))),
  };
  return { db, writes: () => n };
}

/** What the region holds, in terms that do not depend on its random person ids. */
async function holdings(db: Database) {
  const q = async (sql: string) => (await db.query(sql)).rows;
  return {
    persons: await q(`SELECT count(*)::int AS n FROM person`),
    links: await q(
      `SELECT l.source_id, l.local_id, p.nhs_number, l.link_reason FROM person_link l JOIN person p ON p.id = l.person_id
        ORDER BY 1, 2`,
    ),
    items: await q(
      `SELECT c.id, p.nhs_number, c.resource_type, c.source_local_id, c.version, c.status, c.deleted,
              c.codes::text AS codes, c.sensitivity::text AS sensitivity, c.effective::text AS effective
         FROM clinical_item c JOIN person p ON p.id = c.person_id ORDER BY c.id`,
    ),
    versions: await q(`SELECT id, version, deleted FROM clinical_item_version ORDER BY id, version`),
    facts: await q(
      `SELECT f.item_id, f.org_ods, f.kind, p.nhs_number, f.at::text AS at, f.open
         FROM relationship_fact f JOIN person p ON p.id = f.person_id ORDER BY 1, 2, 3`,
    ),
    answers: await q(`SELECT control_id, status, ack_code FROM hl7_message ORDER BY control_id`),
  };
}

async function hospital(kind: (typeof DB_KINDS)[number]): Promise<TestRegion> {
  const r = await startRegion(kind);
  await upsertSource(r.db, { id: SOURCE, org: 'RX1', kind: 'hl7v2' });
  return r;
}

describe.each(DB_KINDS)('HL7 v2 passes on %s', (kind) => {
  it('holds the same whether a feed is sent one message at a time or all at once', async () => {
    const messages = feed();
    const one = await hospital(kind);
    const all = await hospital(kind);
    try {
      const source = (await getSource(one.db, SOURCE))!;
      const singly: string[] = [];
      for (const m of messages) {
        const o = await one.app.services.hl7.receive(m, source);
        if (o.code !== 'AA') console.log(m, o.ack);
        singly.push(o.code);
      }

      // one lane: the first message is taken alone, every other queues behind it and is committed
      // in batches of up to 50 (src/ingest/hl7v2/intake.ts), several patients in a pass
      const counted = countingItemWrites(all.db);
      const intake = createHl7Intake({ ingest: { ...all.app.services.ingest, db: counted.db }, lanes: 1 });
      const together = await Promise.all(messages.map((m) => intake.receive(m, source)));

      expect(singly.filter((c) => c !== 'AA')).toEqual([]);
      expect(together.map((o) => o.code)).toEqual(singly);
      // passes happened: far fewer item writes than messages
      expect(counted.writes()).toBeLessThan(messages.length / 2);
      const [a, b] = [await holdings(one.db), await holdings(all.db)];
      expect(b.items.length).toBeGreaterThan(60);
      // the merge brought the old hospital number to the person; the stay has two versions
      expect(a.links.filter((l) => l.nhs_number === feedPerson(0, 99).nhs).length).toBe(2);
      expect(a.versions.length).toBeGreaterThan(0);
      expect(b).toEqual(a);
    } finally {
      await one.drop();
      await all.drop();
    }
  });

  it('answers AE for the one wrong message of a pass and keeps the other patients’ data', async () => {
    const r = await hospital(kind);
    try {
      const source = (await getSource(r.db, SOURCE))!;
      const rng = new Rng(5, 5, 5);
      const people = Array.from({ length: 5 }, (_, i) => feedPerson(i, 7));
      const messages = people.map((p, k) =>
        feedMessage('ADT^A04', p, 100 + k, new Date(Date.UTC(2026, 1, 1)), rng, FEED),
      );
      // the fourth patient's birth date is month 13: AE naming PID-7, nothing of it stored
      messages[3] = messages[3]!.replace(/^(PID(?:\|[^|\r]*){6}\|)\d{8}/m, '$119651312');
      const intake = createHl7Intake({ ingest: r.app.services.ingest, lanes: 1 });
      const outcomes = await Promise.all(messages.map((m) => intake.receive(m, source)));
      expect(outcomes.map((o) => o.code)).toEqual(['AA', 'AA', 'AA', 'AE', 'AA']);
      expect(outcomes[3]!.ack).toMatch(/\rERR\|\|PID\^1\^7\|/);
      const { rows } = await r.db.query<{ nhs_number: string }>(
        `SELECT DISTINCT p.nhs_number FROM clinical_item c JOIN person p ON p.id = c.person_id ORDER BY 1`,
      );
      expect(rows.map((x) => x.nhs_number)).toEqual(
        [people[0]!, people[1]!, people[2]!, people[4]!].map((p) => p.nhs).sort(),
      );
    } finally {
      await r.drop();
    }
  });
});
