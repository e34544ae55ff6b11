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
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

interface SigningKey {
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

const trailDir = (s: AuditConfig, trail: string) => path.join(s.checkpointDir, trail);
const fileName = (n: number) => `checkpoint-${String(n).padStart(8, '0')}.jws`;
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

export interface LoadedCheckpoints {
  checkpoints: (Checkpoint & { file: string })[];
  problems: string[];
  keyId?: string;
}

/** Reads and checks every checkpoint of a trail: signature, trail, numbering and links. */
export async function readCheckpoints(s: AuditConfig, trail: string): Promise<LoadedCheckpoints> {
  const dir = trailDir(s, trail);
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /^checkpoint-\d{8}\.jws$/.test(f))
        .sort()
    : [];
  if (files.length === 0) return { checkpoints: [], problems: [] };
  const key = await readKey(s.signingKeyFile, false);
  if (!key)
    return {
      checkpoints: [],
      problems: [`cannot check ${files.length} checkpoint(s): the key file ${s.signingKeyFile} is missing`],
    };
  const out: LoadedCheckpoints = { checkpoints: [], problems: [], keyId: key.kid };
  let prevText: string | undefined;
  for (const f of files) {
    const text = readFileSync(path.join(dir, f), 'utf8').trim();
    let cp: Checkpoint;
    try {
      const { payload, protectedHeader } = await compactVerify(text, key.publicKey);
      if (protectedHeader.typ !== TYP) throw new Error('not a checkpoint');
      cp = JSON.parse(new TextDecoder().decode(payload)) as Checkpoint;
    } catch {
      out.problems.push(
        `checkpoint ${f} does not carry a valid signature by key ${key.kid} (forged or damaged)`,
      );
      prevText = text;
      continue;
    }
    const expectedN = out.checkpoints.length ? out.checkpoints.at(-1)!.n + 1 : 1;
    if (cp.trail !== trail) out.problems.push(`checkpoint ${f} belongs to another trail (${cp.trail})`);
    else if (cp.n !== expectedN)
      out.problems.push(`checkpoint ${expectedN} is missing (deleted): the next present is ${cp.n}`);
    else if (cp.n > 1 && prevText !== undefined && cp.prev !== sha256(prevText))
      out.problems.push(`checkpoint ${cp.n} does not follow checkpoint ${cp.n - 1} (replaced or edited)`);
    out.checkpoints.push({ ...cp, file: f });
    prevText = text;
  }
  return out;
}

const sameMarks = (a: ChainMark[], b: ChainMark[]) =>
  a.length === b.length &&
  a.every((m, i) => m.chain === b[i]!.chain && m.seq === b[i]!.seq && m.hash === b[i]!.hash);

/**
 * Signs the current heads (and bases, or `bases` about to be set by pruning) into the next
 * checkpoint file. Returns undefined when nothing moved since the last one.
 */
export async function writeCheckpoint(
  q: Queryable,
  s: AuditConfig,
  opts: { bases?: ChainMark[]; force?: boolean } = {},
): Promise<(Checkpoint & { file: string }) | undefined> {
  const trail = await trailId(q);
  const marks = await chainMarks(q);
  const bases = opts.bases ?? marks.bases;
  const key = await readKey(s.signingKeyFile, true);
  if (!key?.privateKey)
    throw new Error(`${s.signingKeyFile} holds a public key only: it cannot sign checkpoints`);
  const dir = trailDir(s, trail);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'public-key.jwk'), `${JSON.stringify(await exportJWK(key.publicKey))}\n`);
  for (let attempt = 0; attempt < 5; attempt++) {
    const files = readdirSync(dir)
      .filter((f) => /^checkpoint-\d{8}\.jws$/.test(f))
      .sort();
    const last = files.at(-1);
    const prevText = last ? readFileSync(path.join(dir, last), 'utf8').trim() : undefined;
    const n = last ? Number(/(\d{8})/.exec(last)![1]) + 1 : 1;
    if (prevText && !opts.force && !opts.bases) {
      const prev = JSON.parse(Buffer.from(prevText.split('.')[1]!, 'base64url').toString()) as Checkpoint;
      if (sameMarks(prev.heads, marks.heads) && sameMarks(prev.bases, bases)) return undefined;
    }
    const cp: Checkpoint = {
      typ: 'sharedcare-audit-checkpoint',
      trail,
      n,
      at: new Date().toISOString(),
      prev: prevText ? sha256(prevText) : null,
      heads: marks.heads,
      bases,
    };
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(cp)))
      .setProtectedHeader({ alg: ALG, typ: TYP, kid: key.kid })
      .sign(key.privateKey);
    try {
      writeFileSync(path.join(dir, fileName(n)), `${jws}\n`, { flag: 'wx' });
      return { ...cp, file: fileName(n) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // another process wrote checkpoint n meanwhile: try again as n + 1
    }
  }
  throw new Error('could not write an audit checkpoint: the checkpoint folder keeps changing');
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
      .catch(onError)
      .finally(() => (running = false));
  }, s.checkpointMinutes * 60_000);
  timer.unref();
  return () => clearInterval(timer);
}
