/**
 * vread of past versions, table by table: each row a version a client asks for, as whom, and what
 * it gets (the version's status, its ETag, what the body says, the audit outcome). Superseded
 * versions come from clinical_item_version, through the gate: access, the item visible now, the
 * version classified on its own content, an audit event either way.
 */
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';
import { personIdFor, postFhir } from './http.ts';
import { bundle, HIV, HYPERTENSION, patient } from './fhir-data.ts';

const NHS = '9990000026';
const SCT = 'http://snomed.info/sct';
const VIRAL = { system: SCT, code: '34014006', display: 'Viral disease' };
const ASTHMA = { system: SCT, code: '195967001', display: 'Asthma' };
const STATUS = 'http://terminology.hl7.org/CodeSystem/condition-clinical';

const condition = (id: string, coding: object, status = 'active', extra: object = {}) =>
  ({
    resourceType: 'Condition',
    id,
    clinicalStatus: { coding: [{ system: STATUS, code: status }] },
    code: { coding: [coding] },
    subject: { reference: 'Patient/p1' },
    onsetDateTime: '2021-01-01',
    ...extra,
  }) as Resource;

/** Each item's versions, in the order the GP sends them. */
const VERSIONS: Resource[][] = [
  // c-htn: v1 active, v2 resolved (current)
  [condition('c-htn', HYPERTENSION), condition('c-htn', HYPERTENSION, 'resolved')],
  // c-fix: v1 carried a never-shared code, corrected in v2
  [condition('c-fix', HIV), condition('c-fix', VIRAL)],
  // c-now: v1 ordinary, v2 never shared (current)
  [condition('c-now', ASTHMA), condition('c-now', HIV)],
  // c-err: v1 ordinary, v2 entered in error
  [
    condition('c-err', ASTHMA),
    condition('c-err', ASTHMA, 'active', {
      verificationStatus: {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' },
        ],
      },
    }),
  ],
];

describe.each(DB_KINDS)('vread of past versions on %s', (kind) => {
  let r: TestRegion;
  let person: string;
  const ids = new Map<string, string>();
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    r = await startRegion(kind);
    for (let v = 0; v < 2; v++) {
      const res = await postFhir(
        r,
        'gp-riverside',
        bundle('batch', [patient('p1', NHS), ...VERSIONS.map((x) => x[v]!)]),
      );
      expect(res.status, res.text).toBe(200);
    }
    person = await personIdFor(r, NHS);
    const { rows } = await r.db.query<{ id: string; local: string }>(
      `SELECT id, source_local_id AS local FROM clinical_item WHERE person_id = $1`,
      [person],
    );
    for (const row of rows) ids.set(row.local, row.id);
    tokens.set('gp', await r.userToken('dr.vread', 'Y90001'));
    tokens.set('hospital', await r.userToken('dr.elsewhere', 'RX1')); // no relationship with this person
  }, 120_000);
  afterAll(async () => r.drop());

  // [item, version asked for, as whom, status, ETag, what the body must contain]
  const TABLE: [string, string, string, number, string | undefined, string | undefined][] = [
    ['c-htn', '1', 'gp', 200, 'W/"1"', '"code":"active"'],
    ['c-htn', '2', 'gp', 200, 'W/"2"', '"code":"resolved"'],
    ['c-htn', '3', 'gp', 404, undefined, undefined],
    ['c-htn', '0', 'gp', 404, undefined, undefined],
    ['c-htn', 'x', 'gp', 404, undefined, undefined],
    ['c-htn', '1', 'hospital', 404, undefined, undefined], // no relationship: refused, as not found
    ['c-fix', '1', 'gp', 404, undefined, undefined], // the version's own code is never shared
    ['c-fix', '2', 'gp', 200, 'W/"2"', '34014006'],
    ['c-now', '1', 'gp', 404, undefined, undefined], // the item is withheld now: every version is
    ['c-now', '2', 'gp', 404, undefined, undefined],
    ['c-err', '1', 'gp', 404, undefined, undefined], // the item was entered in error
  ];

  it.each(TABLE)('%s/_history/%s as %s: %i', async (item, vid, who, status, etag, contains) => {
    const res = await r.app.server.inject({
      url: `/fhir/Condition/${ids.get(item)}/_history/${vid}`,
      headers: { authorization: `Bearer ${tokens.get(who)}` },
    });
    expect(res.statusCode, res.body).toBe(status);
    const body = res.json() as { resourceType: string; meta?: { versionId?: string } };
    if (status === 200) {
      expect(res.headers.etag).toBe(etag);
      expect(body.meta?.versionId).toBe(vid);
      expect(res.body).toContain(contains!);
    } else {
      expect(body.resourceType).toBe('OperationOutcome');
    }
    expect(res.body).not.toContain('86406008');
    if (vid === 'x') return; // refused at the edge: no person located, no read
    const { rows } = await r.db.query<{ outcome: string; event: string }>(
      `SELECT outcome, event FROM audit_event WHERE user_id = $1 ORDER BY seq DESC LIMIT 1`,
      [who === 'gp' ? 'dr.vread' : 'dr.elsewhere'],
    );
    const event = JSON.parse(rows[0]!.event) as { query?: string; returned?: { count: number } };
    expect(rows[0]!.outcome === 'success').toBe(status === 200);
    if (status === 200) expect(event.returned?.count).toBe(1);
  });
});
