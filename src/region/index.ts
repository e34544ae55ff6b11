/**
 * The region's participants: organisations (by ODS code) and their source systems. Owns the
 * organisation and source_system tables; ingest, access and the admin API call these functions.
 */
import { z } from 'zod';
import type { Database, Queryable } from '../db/index.ts';
import { SharedcareError, validOrRefuse } from '../errors/index.ts';

/**
 * What an organisation declares it shares (its data-sharing agreement's data set): the categories
 * as its readers would name them, and from when. The viewer's sources panel shows it.
 */
export const dataSetInput = z.object({
  categories: z
    .array(z.string().trim().min(1, 'a category cannot be empty'))
    .min(1, 'name at least one category of what is shared'),
  from: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'from is a date: YYYY-MM-DD')
    .optional(),
});

export const organisationInput = z.object({
  ods: z.string().regex(/^[A-Z0-9]{3,10}$/, 'an ODS code is 3 to 10 capital letters or digits'),
  name: z.string().trim().min(1, 'a name is required'),
  kind: z.string().optional(),
  contributes: z.boolean().default(false),
  views: z.boolean().default(false),
  dataSet: dataSetInput.optional(),
});
export type OrganisationInput = z.input<typeof organisationInput>;

export interface Organisation {
  ods: string;
  name: string;
  kind: string | null;
  contributes: boolean;
  views: boolean;
}

export const sourceInput = z.object({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'a source id is 2 to 63 lower-case letters, digits and dashes'),
  org: z.string(),
  kind: z.enum(['fhir', 'hl7v2', 'batch']),
  name: z.string().optional(),
});
export type SourceInput = z.input<typeof sourceInput>;

export interface SourceSystem {
  id: string;
  org: string;
  orgName: string;
  /** the organisation's kind (gp, acute, …), which tells what its records imply */
  orgKind: string | null;
  kind: 'fhir' | 'hl7v2' | 'batch';
  name: string | null;
  lastReceivedAt: string | null;
}

const parse = <T>(schema: z.ZodType<T>, input: unknown, what: string): T =>
  validOrRefuse(schema, input, `invalid ${what}`, what);

/** Adds or updates an organisation (idempotent on its ODS code). */
export async function upsertOrganisation(db: Queryable, input: OrganisationInput): Promise<Organisation> {
  const o = parse(organisationInput, input, 'organisation');
  if (!o.contributes && !o.views) {
    throw new SharedcareError('invalid-request', 'an organisation must contribute, view, or both', [
      { message: 'an organisation must contribute, view, or both', expression: 'contributes' },
    ]);
  }
  // kind and data set are kept when an update leaves them out (as `org add` for a name change does)
  const { rows } = await db.query<Organisation>(
    `INSERT INTO organisation (ods, name, kind, contributes, views, data_set, data_set_from)
     VALUES ($1, $2, $3, $4, $5, $6, $7::date)
     ON CONFLICT (ods) DO UPDATE SET name = EXCLUDED.name, kind = COALESCE(EXCLUDED.kind, organisation.kind),
       contributes = EXCLUDED.contributes, views = EXCLUDED.views,
       data_set = COALESCE(EXCLUDED.data_set, organisation.data_set),
       data_set_from = CASE WHEN EXCLUDED.data_set IS NULL THEN organisation.data_set_from ELSE EXCLUDED.data_set_from END,
       updated_at = now()
     RETURNING ods, name, kind, contributes, views`,
    [
      o.ods,
      o.name,
      o.kind ?? null,
      o.contributes,
      o.views,
      o.dataSet?.categories ?? null,
      o.dataSet?.from ?? null,
    ],
  );
  return rows[0]!;
}

export async function listOrganisations(db: Queryable): Promise<Organisation[]> {
  return (
    await db.query<Organisation>('SELECT ods, name, kind, contributes, views FROM organisation ORDER BY ods')
  ).rows;
}

export async function getOrganisation(db: Queryable, ods: string): Promise<Organisation | undefined> {
  return (
    await db.query<Organisation>(
      'SELECT ods, name, kind, contributes, views FROM organisation WHERE ods = $1',
      [ods],
    )
  ).rows[0];
}

/** Adds or updates a source system. Its organisation must exist and contribute. */
export async function upsertSource(db: Queryable, input: SourceInput): Promise<SourceSystem> {
  const s = parse(sourceInput, input, 'source');
  const org = await getOrganisation(db, s.org);
  if (!org) {
    throw new SharedcareError('invalid-request', `organisation ${s.org} is not registered; add it first`, [
      { message: `organisation ${s.org} is not registered; add it first`, expression: 'org' },
    ]);
  }
  if (!org.contributes) {
    throw new SharedcareError('invalid-request', `organisation ${s.org} does not contribute data`, [
      {
        message: `organisation ${s.org} does not contribute data; register it with contributes`,
        expression: 'org',
      },
    ]);
  }
  await db.query(
    `INSERT INTO source_system (id, org_ods, kind, name) VALUES ($1, $2, $3, $4)
     ON CONFLICT (id) DO UPDATE SET org_ods = EXCLUDED.org_ods, kind = EXCLUDED.kind, name = COALESCE(EXCLUDED.name, source_system.name)`,
    [s.id, s.org, s.kind, s.name ?? null],
  );
  return (await getSource(db, s.id))!;
}

const SOURCE_SELECT = `SELECT s.id, s.org_ods AS org, o.name AS "orgName", o.kind AS "orgKind", s.kind, s.name,
  s.last_received_at::text AS "lastReceivedAt" FROM source_system s JOIN organisation o ON o.ods = s.org_ods`;

export async function getSource(db: Queryable, id: string): Promise<SourceSystem | undefined> {
  return (await db.query<SourceSystem>(`${SOURCE_SELECT} WHERE s.id = $1`, [id])).rows[0];
}

export async function listSources(db: Queryable): Promise<SourceSystem[]> {
  return (await db.query<SourceSystem>(`${SOURCE_SELECT} ORDER BY s.id`)).rows;
}

export async function markSourceReceived(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE source_system SET last_received_at = now() WHERE id = $1', [id]);
}

/** Applies organisations and sources from a configuration file, in one transaction (idempotent). */
export async function applyRegion(
  db: Database,
  organisations: OrganisationInput[],
  sources: SourceInput[],
): Promise<void> {
  if (organisations.length === 0 && sources.length === 0) return;
  await db.transaction(async (tx) => {
    for (const o of organisations) await upsertOrganisation(tx, o);
    for (const s of sources) await upsertSource(tx, s);
  });
}

export interface RegionSnapshot {
  organisations: Map<string, Organisation>;
  sources: Map<string, SourceSystem>;
}

/**
 * A read-through cache of the region (organisations and sources), refreshed after `ttlMs`.
 * Every record open needs these facts; they change rarely (an administrator's action), so a
 * change takes effect within the TTL instead of costing three queries per read.
 */
export function createRegionDirectory(
  db: Queryable,
  ttlMs = 5000,
): { snapshot(): Promise<RegionSnapshot>; invalidate(): void } {
  let cached: { at: number; value: Promise<RegionSnapshot> } | undefined;
  const load = async (): Promise<RegionSnapshot> => {
    const [orgs, sources] = await Promise.all([listOrganisations(db), listSources(db)]);
    return {
      organisations: new Map(orgs.map((o) => [o.ods, o])),
      sources: new Map(sources.map((s) => [s.id, s])),
    };
  };
  return {
    snapshot() {
      if (!cached || Date.now() - cached.at > ttlMs) {
        const value = load();
        cached = { at: Date.now(), value };
        value.catch(() => (cached = undefined));
      }
      return cached.value;
    },
    invalidate() {
      cached = undefined;
    },
  };
}

export { contributorFeeds, USUAL_DATA_SETS, type ContributorFeeds, type SourceFeed } from './feeds.ts';
