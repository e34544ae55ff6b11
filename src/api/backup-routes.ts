/**
 * `POST /admin/backup`: a consistent copy of the embedded database while it serves, for
 * administrators and for `sharedcare backup` while this server holds the data folder. The body is
 * the gzipped tar of the data folder; its manifest (src/admin/backup.ts) is in the
 * `sharedcare-backup-manifest` header. Audited (backup.take). PostgreSQL answers 400 with where
 * to look instead (pg_basebackup).
 */
import type { FastifyInstance } from 'fastify';
import { ADMIN_ROLE } from '../access/index.ts';
import { takeBackup } from '../admin/index.ts';
import { requireRole } from './auth.ts';
import type { Services } from './context.ts';

export const MANIFEST_HEADER = 'sharedcare-backup-manifest';

export function registerBackupRoutes(app: FastifyInstance, services: Services): void {
  app.post('/admin/backup', async (req, reply) => {
    const user = await requireRole(services, req, ADMIN_ROLE);
    // the copy is of the whole folder, so it is taken on the owner's handle
    const { manifest, tarball } = await takeBackup(services.ownerDb, user);
    return reply
      .header('content-type', 'application/gzip')
      .header('cache-control', 'no-store')
      .header(MANIFEST_HEADER, JSON.stringify(manifest))
      .send(Buffer.from(tarball.buffer, tarball.byteOffset, tarball.byteLength));
  });
}
