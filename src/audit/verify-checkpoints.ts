/**
 * The chain of checkpoints, as `audit verify` walks it. Three records of the same checkpoints are
 * compared: the database's (audit_checkpoint: number, time, hash of each one written), the local
 * folder's signed files, and each witness's signed copies. A checkpoint that one of them should
 * hold and does not is a break, named by its number: a deleted file (the latest included), a
 * removed record, a copy missing from a witness. Every signed copy that checks, wherever it was
 * found, is then compared with the trail (verify.ts), so a witness still locates a rewrite after
 * the local files are gone.
 */
import type { AuditConfig } from '../config/index.ts';
import type { Queryable } from '../db/index.ts';
import {
  checkCheckpointTexts,
  checkpointRecords,
  readCheckpoints,
  verifyingKey,
  type CheckpointRecord,
  type LoadedCheckpoint,
} from './checkpoint.ts';
import type { VerifyProblem } from './types.ts';
import { openWitnesses } from './witness.ts';

export interface CheckpointChain {
  /** every checkpoint whose signature checks, from any source, by number */
  checkpoints: LoadedCheckpoint[];
  /** how many the database records (or the folder holds, before any is recorded) */
  count: number;
  keyId?: string;
  problems: VerifyProblem[];
  warnings: string[];
}

interface WitnessCopies {
  name: string;
  copies: Map<number, LoadedCheckpoint>;
  latest: number;
}

/** The records in the database: numbered from 1, each following the one before. */
function walkRecords(records: CheckpointRecord[]): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  let prev: CheckpointRecord | undefined;
  for (const r of records) {
    const expected = (prev?.n ?? 0) + 1;
    if (r.n !== expected)
      problems.push({
        checkpoint: expected,
        what: `the database's record of checkpoint${r.n - expected > 1 ? `s ${expected}–${r.n - 1}` : ` ${expected}`} was removed`,
      });
    else if (prev && r.prev !== prev.hash)
      problems.push({
        checkpoint: r.n,
        what: `the record of checkpoint ${r.n} does not follow checkpoint ${prev.n}`,
      });
    prev = r;
  }
  return problems;
}

async function readWitnesses(s: AuditConfig, trail: string, problems: VerifyProblem[], warnings: string[]) {
  const key = await verifyingKey(s);
  const out: WitnessCopies[] = [];
  for (const w of openWitnesses(s)) {
    try {
      const texts = await w.list(trail);
      if (!key) {
        if (texts.length) warnings.push(`the witness ${w.name} is not checked: no key file to check it with`);
        continue;
      }
      const checked = await checkCheckpointTexts(texts, key, trail, `the witness ${w.name}`);
      problems.push(...checked.problems);
      out.push({
        name: w.name,
        copies: new Map(checked.map((c) => [c.n, c])),
        latest: texts.at(-1)?.n ?? 0,
      });
    } catch (err) {
      warnings.push(`could not read the witness ${w.name} (${(err as Error).message}): not cross-checked`);
    } finally {
      await w.close();
    }
  }
  return out;
}

/** One problem per checkpoint number that some record lacks, saying which and what that means. */
function crossCheck(
  dir: string,
  records: CheckpointRecord[],
  local: Map<number, LoadedCheckpoint>,
  witnesses: WitnessCopies[],
  problems: VerifyProblem[],
  warnings: string[],
): void {
  const recorded = new Map(records.map((r) => [r.n, r]));
  const numbers = [...recorded.keys(), ...local.keys(), ...witnesses.flatMap((w) => [...w.copies.keys()])];
  const newest = Math.max(0, ...numbers);
  const legacy = records.length === 0; // written before migration 014 and not yet recorded
  for (let n = 1; n <= newest; n++) {
    const r = recorded.get(n);
    const file = local.get(n);
    const held = witnesses.find((w) => w.copies.has(n));
    if (!r && !file && !held) {
      if (legacy) problems.push({ checkpoint: n, what: `checkpoint ${n} is missing from ${dir} (deleted)` });
    } else if (r && !file && !held)
      problems.push({
        checkpoint: n,
        what: `checkpoint ${n} (written ${r.at}) is missing from ${dir}: its file was deleted`,
      });
    else if (!file && held)
      problems.push({
        checkpoint: n,
        what: `checkpoint ${n} is held by the witness ${held.name} but missing here (${dir})${r ? '' : ' and has no record in the database'}: deleted`,
      });
    else if (file && !r && !legacy && !held)
      problems.push({
        checkpoint: n,
        what: `checkpoint ${n} is in ${dir}, but its record in the database was removed`,
      });
    else if (file && r && file.hash !== r.hash)
      problems.push({ checkpoint: n, what: `checkpoint ${n} in ${dir} is not the one written (replaced)` });
    for (const w of witnesses) {
      const copy = w.copies.get(n);
      if (copy && file && copy.hash !== file.hash)
        problems.push({
          checkpoint: n,
          what: `checkpoint ${n} differs from the copy held by the witness ${w.name}`,
        });
      else if (!copy && n < w.latest)
        problems.push({ checkpoint: n, what: `the witness ${w.name} lacks checkpoint ${n} (removed there)` });
    }
  }
  for (const w of witnesses)
    if (w.latest < newest)
      warnings.push(
        `the witness ${w.name} does not hold checkpoint${newest - w.latest > 1 ? `s ${w.latest + 1}–${newest}` : ` ${newest}`} yet (copied at the next checkpoint)`,
      );
}

export async function checkCheckpointChain(
  q: Queryable,
  s: AuditConfig,
  trail: string,
): Promise<CheckpointChain> {
  const loaded = await readCheckpoints(s, trail);
  const records = await checkpointRecords(q);
  const problems: VerifyProblem[] = [...loaded.problems, ...walkRecords(records)];
  const warnings: string[] = [];
  const witnesses = await readWitnesses(s, trail, problems, warnings);
  const local = new Map(loaded.checkpoints.map((c) => [c.n, c]));
  crossCheck(s.checkpointDir, records, local, witnesses, problems, warnings);
  const all = new Map(local);
  for (const w of witnesses) for (const [n, c] of w.copies) if (!all.has(n)) all.set(n, c);
  return {
    checkpoints: [...all.values()].sort((a, b) => a.n - b.n),
    count: Math.max(records.length, loaded.checkpoints.length),
    ...(loaded.keyId ? { keyId: loaded.keyId } : {}),
    problems,
    warnings,
  };
}
