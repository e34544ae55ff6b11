/**
 * The gate: the one way clinical data is read. Every read runs, in one transaction,
 * access (may this user read records?) → policy (what does the person's privacy allow?) →
 * the store read (with the policy's filter in SQL) → the audit event. The transaction commits
 * only if the audit event was written; only then does the caller get the data. A refusal is
 * audited too, and answered with no clinical data.
 */
import type { Patient } from '@medplum/fhirtypes';
import { decideRecordAccess, type UserPrincipal } from '../access/index.ts';
import { recordAuditEvent, type AuditAction, type AuditEventInput } from '../audit/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import {
  composePatient,
  findPersonByNhsNumber,
  getPerson,
  getPersonLinks,
  NHS_NUMBER_SYSTEM,
  type Person,
  type SourceLabel,
} from '../identity/index.ts';
import { decideRecord, listObjections, type RecordDecision } from '../policy/index.ts';
import { createRegionDirectory, type RegionSnapshot } from '../region/index.ts';
import { readItems, type ItemQuery, type ItemRow } from '../store/index.ts';
import { searchsetBundle } from './bundle.ts';
import { recordNotices } from './notices.ts';

export interface ReadContext {
  user: UserPrincipal;
  /** the calling system, if it said (e.g. a client id) */
  client?: string;
}

export interface Gate {
  /** GET /fhir/Patient?identifier=…|N */
  findPatientByNhsNumber(ctx: ReadContext, nhsNumber: string): Promise<string>;
  /** GET /fhir/Patient/{id} */
  readPatient(ctx: ReadContext, personId: string): Promise<string>;
  /** GET /fhir/Patient/{id}/$everything */
  everything(ctx: ReadContext, personId: string): Promise<string>;
  /** GET /fhir/{Type}?patient={id}&… */
  search(ctx: ReadContext, personId: string, query: ItemQuery, describe: string): Promise<string>;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: SharedcareError };

const KIND_RANK: Record<string, number> = { gp: 0, acute: 1, 'community-mental-health': 2 };

function sourceLabels(region: RegionSnapshot): Map<string, SourceLabel> {
  return new Map(
    [...region.sources.values()].map((s) => [
      s.id,
      { org: s.org, orgName: s.orgName, rank: KIND_RANK[region.organisations.get(s.org)?.kind ?? ''] ?? 5 },
    ]),
  );
}

function withheldPatient(person: Person): Patient {
  return {
    resourceType: 'Patient',
    id: person.id,
    ...(person.nhsNumber ? { identifier: [{ system: NHS_NUMBER_SYSTEM, value: person.nhsNumber }] } : {}),
  };
}

export function createGate(db: Database, fhirBaseUrl: string, opts: { regionTtlMs?: number } = {}): Gate {
  const region = createRegionDirectory(db, opts.regionTtlMs);
  const auditUser = (u: UserPrincipal): AuditEventInput['user'] => ({
    id: u.userId,
    org: u.org,
    role: u.role,
    name: u.name,
    issuer: u.issuer,
  });

  async function audit(tx: Queryable, event: AuditEventInput): Promise<void> {
    try {
      await recordAuditEvent(tx, event);
    } catch {
      throw new SharedcareError(
        'audit-unavailable',
        'The access could not be recorded in the audit trail, so nothing is returned. Try again shortly.',
      );
    }
  }

  /**
   * Runs one governed read. `read` returns the data and the ids it will release; the audit event
   * naming those ids is written before the transaction commits. Refusals commit their own audit
   * event, then throw.
   */
  async function governed<T>(
    ctx: ReadContext,
    action: AuditAction,
    describe: string,
    locate: (tx: Queryable) => Promise<Person | undefined>,
    read: (
      tx: Queryable,
      person: Person,
      decision: RecordDecision,
      snapshot: RegionSnapshot,
    ) => Promise<{ value: T; ids: string[] }>,
  ): Promise<T> {
    // Read the region before the transaction: PGlite has one connection, so a query outside the
    // transaction while it is open would wait for it forever.
    const snapshot = await region.snapshot();
    const result = await db.transaction(async (tx): Promise<Outcome<T>> => {
      const base = {
        user: auditUser(ctx.user),
        ...(ctx.client ? { client: ctx.client } : {}),
        query: describe,
      };
      const access = decideRecordAccess(ctx.user, snapshot.organisations.get(ctx.user.org));
      if (!access.allowed) {
        await audit(tx, {
          ...base,
          action: 'access.refused',
          outcome: 'refused',
          reasons: [access.code],
          detail: action,
        });
        return { ok: false, error: new SharedcareError('forbidden', access.reason) };
      }
      const person = await locate(tx);
      if (!person) {
        await audit(tx, { ...base, action, outcome: 'error', reasons: ['not-found'] });
        return { ok: false, error: new SharedcareError('not-found', 'No person matches') };
      }
      const decision = decideRecord(await listObjections(tx, person.id));
      const { value, ids } = await read(tx, person, decision, snapshot);
      await audit(tx, {
        ...base,
        action,
        outcome: 'success',
        personId: person.id,
        returnedIds: ids,
        basis: access.basis,
        reasons: decision.reasons,
      });
      return { ok: true, value };
    });
    if (!result.ok) throw result.error;
    return result.value;
  }

  async function patientFor(
    tx: Queryable,
    person: Person,
    decision: RecordDecision,
    snapshot: RegionSnapshot,
  ): Promise<Patient> {
    if (decision.withheld) return withheldPatient(person);
    return composePatient(person, await getPersonLinks(tx, person.id), sourceLabels(snapshot));
  }

  const patientBundle = async (
    tx: Queryable,
    person: Person,
    decision: RecordDecision,
    snapshot: RegionSnapshot,
  ) => {
    const patient = await patientFor(tx, person, decision, snapshot);
    return {
      value: searchsetBundle(fhirBaseUrl, { resource: patient, mode: 'match' }, [], recordNotices(decision)),
      ids: [person.id],
    };
  };

  return {
    findPatientByNhsNumber: (ctx, nhs) =>
      governed(
        ctx,
        'patient.search',
        'Patient?identifier=nhs-number',
        (tx) => findPersonByNhsNumber(tx, nhs),
        patientBundle,
      ),

    readPatient: (ctx, personId) =>
      governed(ctx, 'patient.search', 'Patient/{id}', (tx) => getPerson(tx, personId), patientBundle),

    everything: (ctx, personId) =>
      governed(
        ctx,
        'record.open',
        'Patient/{id}/$everything',
        (tx) => getPerson(tx, personId),
        async (tx, person, decision, snapshot) => {
          const rows: ItemRow[] = decision.withheld ? [] : await readItems(tx, person.id, decision.filter);
          const patient = await patientFor(tx, person, decision, snapshot);
          return {
            value: searchsetBundle(
              fhirBaseUrl,
              { resource: patient, mode: 'include' },
              rows,
              recordNotices(decision),
            ),
            ids: [person.id, ...rows.map((r) => r.id)],
          };
        },
      ),

    search: (ctx, personId, query, describe) =>
      governed(
        ctx,
        'record.search',
        describe,
        (tx) => getPerson(tx, personId),
        async (tx, person, decision) => {
          const rows: ItemRow[] = decision.withheld
            ? []
            : await readItems(tx, person.id, decision.filter, query);
          return {
            value: searchsetBundle(fhirBaseUrl, undefined, rows, recordNotices(decision)),
            ids: rows.map((r) => r.id),
          };
        },
      ),
  };
}
