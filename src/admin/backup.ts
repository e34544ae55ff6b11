/**
 * Backups of the embedded database (PGlite): a consistent copy of its data folder taken while it
 * serves (src/db/pglite.ts), and its restore into an empty place. Both are audited: the event of a
 * backup is committed before the copy is taken, so the copy holds the record of its own making;
 * a restore appends an event to the restored trail naming who restored which copy. PostgreSQL is
 * backed up with its own tools (pg_basebackup and WAL archiving: docs/operations.md).
 */
import { createHash } from 'node:crypto';
import { recordAuditEvent } from '../audit/index.ts';
import { openDatabase, restorePglite, type Database } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import type { Actor } from './index.ts';

export const BACKUP_FORMAT = 'sharedcare-pglite-backup/1';

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  takenAt: string;
  takenBy: string;
  takenByOrg: string;
  /** the migrations the copy's schema has had */
  migrations: string[];
  /** audit events in the copy (its own backup.take event included) */
  auditEvents: number;
  /** SHA-256 of the tarball, hex */
  sha256: string;
  bytes: number;
}

export interface Backup {
  manifest: BackupManifest;
  tarball: Uint8Array;
}

const auditUser = (a: Actor) => ({ id: a.userId, org: a.org, role: a.role });

export async function takeBackup(
  db: Database,
  actor: Actor,
  clock: () => Date = () => new Date(),
): Promise<Backup> {
  if (!db.dumpDataDir)
    throw new SharedcareError(
      'invalid-request',
      'backup and restore are for the embedded database; back up PostgreSQL with pg_basebackup and WAL archiving (docs/operations.md, "Backups and restore")',
    );
  const takenAt = clock();
  const { migrations, auditEvents } = await db.transaction(async (tx) => {
    await recordAuditEvent(tx, {
      action: 'backup.take',
      outcome: 'success',
      user: auditUser(actor),
      detail: 'copy of the embedded database taken',
    });
    const m = await tx.query<{ name: string }>('SELECT name FROM schema_migration ORDER BY name');
    const n = await tx.query<{ n: string | number }>('SELECT count(*) AS n FROM audit_event');
    return { migrations: m.rows.map((r) => r.name), auditEvents: Number(n.rows[0]?.n ?? 0) };
  });
  const tarball = await db.dumpDataDir();
  return {
    tarball,
    manifest: {
      format: BACKUP_FORMAT,
      takenAt: takenAt.toISOString(),
      takenBy: actor.userId,
      takenByOrg: actor.org,
      migrations,
      auditEvents,
      sha256: createHash('sha256').update(tarball).digest('hex'),
      bytes: tarball.byteLength,
    },
  };
}

/** What is wrong with a manifest and tarball read back from a backup folder, or nothing. */
export function checkBackup(manifest: unknown, tarball: Uint8Array): BackupManifest {
  const m = manifest as Partial<BackupManifest> | null;
  if (!m || m.format !== BACKUP_FORMAT)
    throw new SharedcareError(
      'invalid-request',
      `not a Sharedcare backup (expected format ${BACKUP_FORMAT})`,
    );
  if (m.sha256 !== createHash('sha256').update(tarball).digest('hex'))
    throw new SharedcareError(
      'invalid-request',
      'the backup is damaged: its data does not match the checksum in its manifest',
    );
  return m as BackupManifest;
}

/**
 * Unpacks a checked backup into the empty folder `dataDir`, brings its schema up to date, and
 * records the restore in the restored audit trail.
 */
export async function restoreBackup(
  dataDir: string,
  backup: Backup,
  actor: Actor,
): Promise<{ auditEvents: number }> {
  await restorePglite(dataDir, backup.tarball);
  const db = await openDatabase({ dataDir });
  try {
    await db.transaction((tx) =>
      recordAuditEvent(tx, {
        action: 'backup.restore',
        outcome: 'success',
        user: auditUser(actor),
        detail: `restored the copy taken at ${backup.manifest.takenAt}`,
      }),
    );
    const n = await db.query<{ n: string | number }>('SELECT count(*) AS n FROM audit_event');
    return { auditEvents: Number(n.rows[0]?.n ?? 0) };
  } finally {
    await db.close();
  }
}
