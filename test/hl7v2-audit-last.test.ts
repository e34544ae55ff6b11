/**
 * An HL7 v2 batch appends the identity audit events of all its messages once, as the last
 * statement of its transaction. An append locks the head of one of the audit trail's sixteen
 * chains until COMMIT, and every record open whose own append falls on that chain waits for it:
 * appended by each pass, a batch's first pass held its chain through the work of all the others.
 */
import { describe, expect, it } from 'vitest';
import { feedMessage, feedPerson } from '../src/generate/hl7-feed.ts';
import { Rng } from '../src/generate/random.ts';
import { createHl7Intake } from '../src/ingest/index.ts';
import { getSource, upsertSource } from '../src/region/index.ts';
import { DB_KINDS, startRegion } from './kit.ts';
import { recordingTransactions } from './scale-out-rule.ts';

const SOURCE = 'rx1-pas';
const FEED = { application: SOURCE, facility: 'RX1' };

describe.each(DB_KINDS)('an HL7 v2 batch’s audit events on %s', (kind) => {
  it('are appended once, last, after every pass of the batch, and only for messages that were applied', async () => {
    const r = await startRegion(kind);
    try {
      await upsertSource(r.db, { id: SOURCE, org: 'RX1', kind: 'hl7v2' });
      const source = (await getSource(r.db, SOURCE))!;
      const rng = new Rng(3, 1, 4);
      const people = Array.from({ length: 6 }, (_, i) => feedPerson(i, 41));
      const at = new Date(Date.UTC(2026, 2, 1));
      // every person three times: a batch holds several passes (no two messages of one patient in a pass)
      const messages = Array.from({ length: 18 }, (_, n) =>
        feedMessage('ADT^A04', people[n % 6]!, 200 + n, at, rng, FEED),
      );
      // and a seventh person whose birth month is 13: AE, the batch run again message by message
      const bad = feedMessage('ADT^A04', feedPerson(6, 41), 300, at, rng, FEED).replace(
        /^(PID(?:\|[^|\r]*){6}\|)\d{8}/m,
        '$119651312',
      );
      messages.splice(9, 0, bad);

      const watched = recordingTransactions(r.db);
      const intake = createHl7Intake({ ingest: { ...r.app.services.ingest, db: watched.db }, lanes: 1 });
      const outcomes = await Promise.all(messages.map((m) => intake.receive(m, source)));
      expect(outcomes.filter((o) => o.code !== 'AA')).toHaveLength(1);
      expect(outcomes[9]!.code).toBe('AE');

      const isAppend = (s: string) => /\baudit_append\(/.test(s);
      const withAppends = watched.transactions().filter((t) => t.some(isAppend));
      expect(withAppends.length).toBeGreaterThan(0);
      for (const t of withAppends) {
        expect(t.filter(isAppend), 'one append per transaction').toHaveLength(1);
        expect(isAppend(t.at(-1)!), 'the append is the last statement').toBe(true);
      }
      // a batch of several passes (the unguarded try, rolled back for the AE, wrote items more than once)
      const itemWrites = (t: string[]) => t.filter((s) => /INSERT INTO clinical_item\b/.test(s)).length;
      expect(Math.max(...watched.transactions().map(itemWrites))).toBeGreaterThan(1);

      // one link event for each of the six people; none for the message answered AE
      const { rows } = await r.db.query<{ nhs: string; n: number }>(
        `SELECT p.nhs_number AS nhs, count(*)::int AS n FROM audit_event e JOIN person p ON p.id = e.person_id
          WHERE e.action = 'identity.link' AND e.user_id = $1 GROUP BY 1 ORDER BY 1`,
        [`source:${SOURCE}`],
      );
      expect(rows).toEqual(
        people.map((p) => ({ nhs: p.nhs, n: 1 })).sort((a, b) => a.nhs.localeCompare(b.nhs)),
      );
    } finally {
      await r.drop();
    }
  });
});
