/**
 * Signed checkpoints of the chain heads, kept outside the database. Someone who can write to the
 * database could rewrite the end of a chain and recompute every hash after it, and the chain would
 * verify again; a checkpoint signed earlier records what each head was, so verification compares
 * the chain with it and finds the rewrite (verify.ts).
 *
 * Why Ed25519 (a signature) rather than an HMAC: with an HMAC, whoever can check a checkpoint holds
 * the same key and could forge one. With a key pair, the server signs with the private key, and an
 * auditor, a second site or a WORM archive that receives the checkpoints checks them with the
 * public key alone. The key is a JWK file (SHAREDCARE_AUDIT_KEY_FILE; by default created on first
 * use in the data folder, mode 0600); a file holding only the public key verifies but cannot sign.
 *
 * Each checkpoint names the trail, its number, the hash of the checkpoint before it (deleting one
 * from the middle is seen), the heads, and the chain bases (where pruning left each chain).
 * The database records each one written (audit_checkpoint: number, time, hash), so a deleted file,
 * the latest included, is missed by verification (verify-checkpoints.ts); and each is copied to the
 * configured witnesses (witness.ts), out of reach of whoever holds the database and this folder.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  calculateJwkThumbprint,
  CompactSign,
  compactVerify,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
} from 'jose';
import type { AuditConfig } from '../config/index.ts';
import type { Queryable } from '../db/index.ts';
import { openWitnesses } from './witness.ts';
import type { VerifyProblem } from './types.ts';

const ALG = 'EdDSA';
const TYP = 'sharedcare-audit-checkpoint+jws';

export interface ChainMark {
  chain: number;
  seq: string;
  hash: string;
}

export interface Checkpoint {
  typ: 'sharedcare-audit-checkpoint';
  trail: string;
  n: number;
  at: string;
  /** SHA-256 of the previous checkpoint file, null for the first */
  prev: string | null;
  heads: ChainMark[];
  bases: ChainMark[];
}

export interface SigningKey {
  kid: string;
  publicKey: CryptoKey;
  privateKey?: CryptoKey;
}

async function readKey(file: string, create: boolean): Promise<SigningKey | undefined> {
  if (!existsSync(file)) {
    if (!create) return undefined;
    const pair = await generateKeyPair(ALG, { crv: 'Ed25519', extractable: true });
    const jwk = await exportJWK(pair.privateKey);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify({ ...jwk, alg: ALG }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  }
  const jwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  const { d: _d, ...pub } = jwk;
  return {
    kid: await calculateJwkThumbprint(pub),
    publicKey: (await importJWK({ ...pub, alg: ALG }, ALG)) as CryptoKey,
    ...(jwk.d ? { privateKey: (await importJWK({ ...jwk, alg: ALG }, ALG)) as CryptoKey } : {}),
  };
}

const trailDir = (dir: string, trail: string) => path.join(dir, trail);
const FILE = /^checkpoint-(\d{8})\.jws$/;
export const fileName = (n: number): string => `checkpoint-${String(n).padStart(8, '0')}.jws`;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export async function trailId(q: Queryable): Promise<string> {
  const { rows } = await q.query<{ id: string }>('SELECT id::text AS id FROM audit_trail');
  if (!rows[0]) throw new Error('the audit trail has no identity (migration 006 not applied)');
  return rows[0].id;
}

export async function chainMarks(q: Queryable): Promise<{ heads: ChainMark[]; bases: ChainMark[] }> {
  const heads = await q.query<ChainMark>(
    'SELECT chain::int AS chain, seq::text AS seq, hash FROM audit_chain_head ORDER BY chain',
  );
  const bases = await q.query<ChainMark>(
    'SELECT chain::int AS chain, seq::text AS seq, hash FROM audit_chain_base ORDER BY chain',
  );
  return { heads: heads.rows, bases: bases.rows };
}

/** A checkpoint as found in a folder or a witness: its number and its exact text (a JWS). */
export interface CheckpointText {
  n: number;
  text: string;
}

/** A checkpoint whose signature checked, with the SHA-256 of its text (what the database records). */
export type LoadedCheckpoint = Checkpoint & { file: string; hash: string };

export interface LoadedCheckpoints {
  checkpoints: LoadedCheckpoint[];
  problems: VerifyProblem[];
  keyId?: string;
}

/** The checkpoint files of one trail in a folder (the local one, or a directory witness). */
export function readCheckpointTexts(dir: string, trail: string): CheckpointText[] {
  const d = trailDir(dir, trail);
  if (!existsSync(d)) return [];
  return readdirSync(d)
    .filter((f) => FILE.test(f))
    .sort()
    .map((f) => ({ n: Number(FILE.exec(f)![1]), text: readFileSync(path.join(d, f), 'utf8').trim() }));
}

/** The payload of a checkpoint whose signature checks, else undefined. */
async function openCheckpoint(text: string, key: SigningKey): Promise<Checkpoint | undefined> {
  try {
    const { payload, protectedHeader } = await compactVerify(text, key.publicKey);
    if (protectedHeader.typ !== TYP) return undefined;
    return JSON.parse(new TextDecoder().decode(payload)) as Checkpoint;
  } catch {
    return undefined;
  }
}

/**
 * Checks checkpoints of a trail from one place (`where`: the folder, or a witness's name):
 * signature, trail, numbering and links. A gap before the first one present or between two is
 * reported; what comes after the last one is for the caller to judge (against the database).
 */
export async function checkCheckpointTexts(
  texts: CheckpointText[],
  key: SigningKey,
  trail: string,
  where: string,
): Promise<LoadedCheckpoint[] & { problems: VerifyProblem[] }> {
  const out = Object.assign([] as LoadedCheckpoint[], { problems: [] as VerifyProblem[] });
  let prev: { n: number; hash: string } | undefined;
  for (const { n, text } of texts) {
    const file = fileName(n);
    const hash = sha256(text);
    const cp = await openCheckpoint(text, key);
    if (!cp || cp.n !== n)
      out.problems.push({
        checkpoint: n,
        what: `checkpoint ${n} in ${where} does not carry a valid signature by key ${key.kid} (forged or damaged)`,
      });
    else if (cp.trail !== trail)
      out.problems.push({
        checkpoint: n,
        what: `checkpoint ${n} in ${where} belongs to another trail (${cp.trail})`,
      });
    else {
      if (prev && prev.n === n - 1 && cp.prev !== prev.hash)
        out.problems.push({
          checkpoint: n,
          what: `checkpoint ${n} in ${where} does not follow checkpoint ${n - 1} (replaced or edited)`,
        });
      out.push({ ...cp, file, hash });
    }
    prev = { n, hash };
  }
  return out;
}

/** Reads and checks every checkpoint of a trail in the local folder. */
export async function readCheckpoints(s: AuditConfig, trail: string): Promise<LoadedCheckpoints> {
  const texts = readCheckpointTexts(s.checkpointDir, trail);
  if (texts.length === 0) return { checkpoints: [], problems: [] };
  const key = await readKey(s.signingKeyFile, false);
  if (!key)
    return {
      checkpoints: [],
      problems: [
        { what: `cannot check ${texts.length} checkpoint(s): the key file ${s.signingKeyFile} is missing` },
      ],
    };
  const checked = await checkCheckpointTexts(texts, key, trail, s.checkpointDir);
  return { checkpoints: [...checked], problems: checked.problems, keyId: key.kid };
}

/** The verifying half of the signing key (undefined when there is no key file). */
export const verifyingKey = (s: AuditConfig): Promise<SigningKey | undefined> =>
  readKey(s.signingKeyFile, false);

const sameMarks = (a: ChainMark[], b: ChainMark[]) =>
  a.length === b.length &&
  a.every((m, i) => m.chain === b[i]!.chain && m.seq === b[i]!.seq && m.hash === b[i]!.hash);

export interface CheckpointRecord {
  n: number;
  at: string;
  hash: string;
  prev: string | null;
}

/** The database's record of every checkpoint written (migration 014), in order. */
export async function checkpointRecords(q: Queryable): Promise<CheckpointRecord[]> {
  const { rows } = await q.query<CheckpointRecord & { at: string | Date }>(
    'SELECT n::int AS n, at, hash, prev FROM audit_checkpoint ORDER BY n',
  );
  return rows.map((r) => ({ ...r, at: new Date(r.at).toISOString() }));
}

const RECORD = `INSERT INTO audit_checkpoint (n, at, hash, prev, key_id) VALUES ($1, $2::timestamptz, $3, $4, $5)
  ON CONFLICT (n) DO NOTHING`;

/**
 * Files written but not recorded (a crash between the two, or checkpoints from before migration
 * 014): each valid one that continues the recorded chain is recorded now. Nothing is lost by it:
 * the file is there, signed.
 */
async function recordUnrecorded(q: Queryable, texts: CheckpointText[], key: SigningKey, trail: string) {
  const { rows } = await q.query<{ n: number; hash: string }>(
    'SELECT n::int AS n, hash FROM audit_checkpoint ORDER BY n DESC LIMIT 1',
  );
  let last = rows[0];
  for (const { n, text } of texts) {
    if (n <= (last?.n ?? 0)) continue;
    const cp = await openCheckpoint(text, key);
    if (
      !cp ||
      cp.n !== n ||
      n !== (last?.n ?? 0) + 1 ||
      cp.trail !== trail ||
      cp.prev !== (last?.hash ?? null)
    )
      break;
    await q.query(RECORD, [n, cp.at, sha256(text), cp.prev, key.kid]);
    last = { n, hash: sha256(text) };
  }
  return last;
}

export type WrittenCheckpoint = Checkpoint & {
  file: string;
  /** witnesses that could not be given their copy (they are caught up at the next checkpoint) */
  witnessProblems?: string[];
};

/**
 * Signs the current heads (and bases, or `bases` about to be set by pruning) into the next
 * checkpoint: a file in the local folder, a row in audit_checkpoint (so that a deleted file is
 * missed), and a copy for each witness. Returns undefined when nothing moved since the last one.
 */
export async function writeCheckpoint(
  q: Queryable,
  s: AuditConfig,
  opts: { bases?: ChainMark[]; force?: boolean } = {},
): Promise<WrittenCheckpoint | undefined> {
  const trail = await trailId(q);
  const marks = await chainMarks(q);
  const bases = opts.bases ?? marks.bases;
  const key = await readKey(s.signingKeyFile, true);
  if (!key?.privateKey)
    throw new Error(`${s.signingKeyFile} holds a public key only: it cannot sign checkpoints`);
  const dir = trailDir(s.checkpointDir, trail);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'public-key.jwk'), `${JSON.stringify(await exportJWK(key.publicKey))}\n`);
  for (let attempt = 0; attempt < 5; attempt++) {
    const texts = readCheckpointTexts(s.checkpointDir, trail);
    const recorded = await recordUnrecorded(q, texts, key, trail);
    const lastFile = texts.at(-1);
    const n = Math.max(recorded?.n ?? 0, lastFile?.n ?? 0) + 1;
    const prevText = texts.find((t) => t.n === n - 1)?.text;
    const prev = prevText ? sha256(prevText) : recorded?.n === n - 1 ? recorded.hash : null;
    if (prevText && !opts.force && !opts.bases) {
      const last = JSON.parse(Buffer.from(prevText.split('.')[1]!, 'base64url').toString()) as Checkpoint;
      if (sameMarks(last.heads, marks.heads) && sameMarks(last.bases, bases)) return undefined;
    }
    const cp: Checkpoint = {
      typ: 'sharedcare-audit-checkpoint',
      trail,
      n,
      at: new Date().toISOString(),
      prev,
      heads: marks.heads,
      bases,
    };
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(cp)))
      .setProtectedHeader({ alg: ALG, typ: TYP, kid: key.kid })
      .sign(key.privateKey);
    const file = path.join(dir, fileName(n));
    try {
      writeFileSync(file, `${jws}\n`, { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      continue; // another process wrote checkpoint n meanwhile: try again as n + 1
    }
    try {
      await q.query(RECORD, [n, cp.at, sha256(jws), prev, key.kid]);
    } catch (err) {
      rmSync(file, { force: true }); // unrecorded, it would read as a removed record
      throw err;
    }
    const witnessProblems = await copyToWitnesses(s, trail, n);
    return { ...cp, file: fileName(n), ...(witnessProblems.length ? { witnessProblems } : {}) };
  }
  throw new Error('could not write an audit checkpoint: the checkpoint folder keeps changing');
}

/**
 * Gives each witness the checkpoints it lacks, up to `upTo`: every one after the last it holds, so
 * one that was unreachable is caught up. A witness's failure does not fail the checkpoint.
 */
async function copyToWitnesses(s: AuditConfig, trail: string, upTo: number): Promise<string[]> {
  const problems: string[] = [];
  for (const w of openWitnesses(s)) {
    let n = upTo;
    try {
      const from = (await w.latest(trail)) + 1;
      const texts = readCheckpointTexts(s.checkpointDir, trail).filter((t) => t.n >= from && t.n <= upTo);
      for (const t of texts) {
        n = t.n;
        await w.put(trail, t.n, t.text);
      }
    } catch (err) {
      problems.push(`could not copy checkpoint ${n} to the witness ${w.name}: ${(err as Error).message}`);
    } finally {
      await w.close();
    }
  }
  return problems;
}

/** Writes a checkpoint every `checkpointMinutes` while the server runs; returns a stop function. */
export function startCheckpoints(
  q: Queryable,
  s: AuditConfig,
  onError: (err: unknown) => void = () => undefined,
): () => void {
  if (s.checkpointMinutes <= 0) return () => undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    writeCheckpoint(q, s)
      .then((cp) => cp?.witnessProblems?.forEach((p) => onError(new Error(p))))
      .catch(onError)
      .finally(() => (running = false));
  }, s.checkpointMinutes * 60_000);
  timer.unref();
  return () => clearInterval(timer);
}
