/**
 * Witnesses: places outside Sharedcare's reach where every signed checkpoint is also kept, so that
 * someone who holds the database and the local checkpoint folder still cannot make a checkpoint
 * disappear (and with it the evidence of a rewritten or cut-off chain). `audit verify` reads them
 * back and cross-checks them with the local folder and the database (verify-checkpoints.ts).
 *
 * - a directory (audit.witness.directory, SHAREDCARE_AUDIT_WITNESS_DIR): a folder on another
 *   mount or machine, laid out as the local one (<trail>/checkpoint-NNNNNNNN.jws); files are
 *   created, never overwritten.
 * - a second database (audit.witness.database, SHAREDCARE_AUDIT_WITNESS_DATABASE_URL): a
 *   PostgreSQL database, ideally run by another party, where Sharedcare's login may only INSERT
 *   and SELECT one table (docs/audit.md gives the SQL); the table is created if the login may.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AuditConfig } from '../config/index.ts';
import { openPostgres, type Database } from '../db/index.ts';
import { fileName, readCheckpointTexts, type CheckpointText } from './checkpoint.ts';

export interface Witness {
  /** how reports name it (no credentials) */
  readonly name: string;
  /** the checkpoints it holds for a trail, in order */
  list(trail: string): Promise<CheckpointText[]>;
  /** the number of the last checkpoint it holds (0: none) */
  latest(trail: string): Promise<number>;
  /** keeps checkpoint n; holding it already with the same text is fine, with another is an error */
  put(trail: string, n: number, text: string): Promise<void>;
  close(): Promise<void>;
}

function directoryWitness(dir: string): Witness {
  const list = async (trail: string) => readCheckpointTexts(dir, trail);
  return {
    name: `directory ${dir}`,
    list,
    latest: async (trail) => (await list(trail)).at(-1)?.n ?? 0,
    async put(trail, n, text) {
      mkdirSync(path.join(dir, trail), { recursive: true });
      try {
        writeFileSync(path.join(dir, trail, fileName(n)), `${text}\n`, { flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if ((await list(trail)).find((t) => t.n === n)?.text !== text)
          throw new Error(`it holds a different checkpoint ${n}`, { cause: err });
      }
    },
    close: async () => undefined,
  };
}

const TABLE = `CREATE TABLE IF NOT EXISTS sharedcare_audit_witness (
  trail uuid NOT NULL, n bigint NOT NULL, jws text NOT NULL, received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (trail, n))`;

function databaseWitness(url: string): Witness {
  const u = new URL(url);
  let db: Promise<Database> | undefined;
  const open = () =>
    (db ??= openPostgres(url, 1).then(async (d) => {
      await d.query(TABLE).catch(() => undefined); // the witness's owner may have made it already
      return d;
    }));
  const list = async (trail: string) =>
    (
      await (
        await open()
      ).query<CheckpointText>(
        'SELECT n::int AS n, jws AS text FROM sharedcare_audit_witness WHERE trail = $1::uuid ORDER BY n',
        [trail],
      )
    ).rows;
  return {
    name: `database ${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`,
    list,
    async latest(trail) {
      const { rows } = await (
        await open()
      ).query<{ n: number | null }>(
        'SELECT max(n)::int AS n FROM sharedcare_audit_witness WHERE trail = $1::uuid',
        [trail],
      );
      return rows[0]?.n ?? 0;
    },
    async put(trail, n, text) {
      const d = await open();
      const { rowCount } = await d.query(
        'INSERT INTO sharedcare_audit_witness (trail, n, jws) VALUES ($1::uuid, $2, $3) ON CONFLICT DO NOTHING',
        [trail, n, text],
      );
      if (rowCount === 0 && (await list(trail)).find((t) => t.n === n)?.text !== text)
        throw new Error(`it holds a different checkpoint ${n}`);
    },
    close: async () => {
      if (db) await db.then((d) => d.close()).catch(() => undefined);
    },
  };
}

/** The witnesses the configuration names (none by default). Close each after use. */
export function openWitnesses(s: AuditConfig): Witness[] {
  return [
    ...(s.witness.directory ? [directoryWitness(s.witness.directory)] : []),
    ...(s.witness.database ? [databaseWitness(s.witness.database)] : []),
  ];
}
