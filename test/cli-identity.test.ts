/**
 * `sharedcare identity review`, `identity split` and `identity reindex` as an administrator runs
 * them: `node bin/sharedcare.js …` in child processes on an embedded PGlite data folder of their
 * own. Two sources send the same person, the second after a house move, so the pair waits for
 * review; the administrator sees it side by side, links it, then splits it off again. After each
 * command the folder is opened to check what changed (nothing holds it between commands).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/index.ts';
import { bundle, condition, HYPERTENSION } from './fhir-data.ts';
import { patientOf, someone } from './identity-data.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'sharedcare.js');
const BY = ['--by', 'admin.one', '--org', 'Y90001'];
const NHS = '9990000417';
const KAY = someone(17);
const MOVED = { ...KAY, postcode: 'ND8 1AA', line: '2 Low Green', phone: '01632 960999' };

let dir: string;
let env: NodeJS.ProcessEnv;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sharedcare(args: string[]): Promise<Run> {
  return new Promise((resolve) =>
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env, timeout: 300_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    ),
  );
}

async function ok(args: string[]): Promise<string> {
  const r = await sharedcare(args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

/** Reads the data folder between commands. */
async function inFolder<T>(
  fn: (q: (sql: string, p?: unknown[]) => Promise<unknown[]>) => Promise<T>,
): Promise<T> {
  const db = await openDatabase({ dataDir: path.join(dir, 'data') });
  try {
    return await fn(async (sql, p) => (await db.query(sql, p)).rows);
  } finally {
    await db.close();
  }
}

const links = () =>
  inFolder(async (q) =>
    Object.fromEntries(
      (
        (await q('SELECT local_id, person_id FROM person_link ORDER BY local_id')) as {
          local_id: string;
          person_id: string;
        }[]
      ).map((r) => [r.local_id, r.person_id]),
    ),
  );

const itemPerson = () =>
  inFolder(
    async (q) =>
      (
        (await q(`SELECT person_id FROM clinical_item WHERE source_local_id = 'c-kay'`)) as {
          person_id: string;
        }[]
      )[0]?.person_id,
  );

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-cli-identity-'));
  env = {
    ...process.env,
    SHAREDCARE_DATA_DIR: path.join(dir, 'data'),
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
  };
  for (const k of [
    'DATABASE_URL',
    'SHAREDCARE_CONFIG',
    'SHAREDCARE_AUDIT_CHECKPOINT_DIR',
    'SHAREDCARE_AUDIT_KEY_FILE',
  ])
    delete env[k];
  const gp = path.join(dir, 'gp.json');
  const pas = path.join(dir, 'pas.json');
  writeFileSync(gp, JSON.stringify(bundle('batch', [patientOf('gp-kay', KAY, NHS)])));
  writeFileSync(
    pas,
    JSON.stringify(
      bundle('batch', [patientOf('mrn-kay', MOVED), condition('c-kay', 'Patient/mrn-kay', HYPERTENSION)]),
    ),
  );
  await ok([
    'org',
    'add',
    '--ods',
    'Y90001',
    '--name',
    'Riverside Surgery',
    '--contributes',
    '--views',
    ...BY,
  ]);
  await ok(['org', 'add', '--ods', 'RX1', '--name', 'Northgate Hospital', '--contributes', '--views', ...BY]);
  for (const [id, org] of [
    ['gp-riverside', 'Y90001'],
    ['northgate-pas', 'RX1'],
  ] as const)
    await ok([
      'source',
      'add',
      '--id',
      id,
      '--org',
      org,
      '--kind',
      'fhir',
      '--by',
      'admin.one',
      '--by-org',
      'Y90001',
    ]);
  await ok(['load', '--source', 'gp-riverside', gp]);
  await ok(['load', '--source', 'northgate-pas', pas]);
}, 900_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sharedcare identity, as an administrator runs it', () => {
  let reviewId: string;
  let person: string;

  it('review lists the waiting pair side by side, while the records stay apart', async () => {
    const before = await links();
    expect(before['mrn-kay']).not.toBe(before['gp-kay']);
    const out = await ok(['identity', 'review', ...BY]);
    reviewId = /^review ([0-9a-f-]{36}) {2}\(match weight /m.exec(out)![1]!;
    expect(out).toMatch(/source\s+northgate-pas mrn-kay\s+gp-riverside gp-kay/);
    expect(out).toMatch(new RegExp(`NHS number\\s+${NHS}`));
    expect(out).toContain(KAY.family);
    expect(out).toMatch(/address\s+2 Low Green.*ND8 1AA/);
    expect(out).toMatch(/levels\s+.*postcode=/);
  }, 900_000);

  it('review refuses --link with --apart, and an unknown pair, and changes nothing', async () => {
    const both = await sharedcare(['identity', 'review', '--link', reviewId, '--apart', reviewId, ...BY]);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/give one of --link and --apart/);
    const unknown = await sharedcare([
      'identity',
      'review',
      '--link',
      '00000000-0000-4000-8000-000000000000',
      ...BY,
    ]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).not.toBe('');
    const noActor = await sharedcare(['identity', 'review', '--link', reviewId]);
    expect(noActor.code).not.toBe(0);
    expect(noActor.stderr).toMatch(/--by/);
    expect((await ok(['identity', 'review', ...BY])).match(/^review /gm)).toHaveLength(1);
  }, 900_000);

  it('review --link puts the record and its items on the person, remembers and audits it', async () => {
    const out = JSON.parse(await ok(['identity', 'review', '--link', reviewId, ...BY])) as object;
    expect(out).toEqual({ id: reviewId, decision: 'link', moved: 1 });
    const now = await links();
    person = now['gp-kay']!;
    expect(now['mrn-kay']).toBe(person);
    expect(await itemPerson()).toBe(person);
    expect(await ok(['identity', 'review', ...BY])).toBe('No pairs are waiting for review.\n');
    const [remembered, audited] = await inFolder(async (q) => [
      await q(`SELECT decision, decided_by FROM identity_decision WHERE local_id = 'mrn-kay'`),
      await q(
        `SELECT action, user_id, person_id FROM audit_event
          WHERE user_id = 'admin.one'
            AND (action = 'identity.link' OR event LIKE '%the two source records linked%') ORDER BY seq`,
      ),
    ]);
    expect(remembered).toEqual([{ decision: 'link', decided_by: 'admin.one' }]);
    expect(audited).toEqual([
      { action: 'identity.review', user_id: 'admin.one', person_id: person },
      expect.objectContaining({ action: 'identity.link', user_id: 'admin.one', person_id: person }),
    ]);
  }, 900_000);

  it('split refuses a malformed record and one carrying the NHS number, changing nothing', async () => {
    const before = await links();
    const malformed = await sharedcare([
      'identity',
      'split',
      '--person',
      person,
      '--record',
      'mrn-kay',
      ...BY,
    ]);
    expect(malformed.code).not.toBe(0);
    expect(malformed.stderr).toMatch(/--record mrn-kay: expected source:localId/);
    const numbered = await sharedcare([
      'identity',
      'split',
      '--person',
      person,
      '--record',
      'gp-riverside:gp-kay',
      ...BY,
    ]);
    expect(numbered.code).not.toBe(0);
    expect(numbered.stderr).toMatch(/carrying the person's NHS number stays with the person/);
    expect(await links()).toEqual(before);
  }, 900_000);

  it('split moves the record and its items onto a new person', async () => {
    const out = JSON.parse(
      await ok(['identity', 'split', '--person', person, '--record', 'northgate-pas:mrn-kay', ...BY]),
    ) as { newPersonId: string; moves: { localId: string; fromPersonId: string; toPersonId: string }[] };
    expect(out.moves).toEqual([
      expect.objectContaining({ localId: 'mrn-kay', fromPersonId: person, toPersonId: out.newPersonId }),
    ]);
    const now = await links();
    expect(now['gp-kay']).toBe(person);
    expect(now['mrn-kay']).toBe(out.newPersonId);
    expect(await itemPerson()).toBe(out.newPersonId);
  }, 900_000);

  it('reindex says every record already has current match keys', async () => {
    expect(await ok(['identity', 'reindex'])).toBe('Every source record has current match keys.\n');
  }, 900_000);
});
