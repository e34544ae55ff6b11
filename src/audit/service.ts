/**
 * What the data protection officer does with the trail: access reports (JSON, CSV, a FHIR Bundle of
 * AuditEvents), subject-access reports, alerts and their review, verification and checkpoints.
 * Every one of them is itself written to the trail, in the same transaction as the read where there
 * is one: reading the audit trail is audited, and if that record cannot be written nothing is
 * returned. The HTTP routes and the CLI both call this (through src/admin).
 */
import type { Bundle } from '@medplum/fhirtypes';
import type { AuditConfig } from '../config/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { listAlerts, reviewAlert, type Alert } from './alert-store.ts';
import { writeCheckpoint } from './checkpoint.ts';
import { reportCsv } from './csv.ts';
import { auditEventBundle } from './fhir.ts';
import { recordAuditEvent } from './record.ts';
import { accessReport, type ReportRow } from './report.ts';
import {
  subjectAccessCsv,
  subjectAccessHtml,
  subjectAccessText,
  subjectAccessVisits,
  SUBJECT_ACCESS_ACTIONS,
  type SubjectAccessReport,
} from './subject-access.ts';
import type { AuditEventInput, AuditUser } from './types.ts';
import { verifyAuditChain, type VerifyResult } from './verify.ts';

export interface DpoActor {
  userId: string;
  org: string;
  role: string;
  name?: string | undefined;
}

export interface DpoDeps {
  /** NHS number → person id; throws a SharedcareError (invalid-request, not-found) */
  personByNhs(q: Queryable, nhs: string): Promise<string>;
  organisationNames(q: Queryable): Promise<Map<string, string>>;
  /** the FHIR base URL, for AuditEvent agents and Bundle fullUrls */
  fhirBase: string;
}

export type ReportFormat = 'json' | 'csv' | 'fhir';
export type SubjectAccessFormat = 'text' | 'html' | 'csv' | 'json';

export interface Rendered<T = unknown> {
  contentType: string;
  /** a string for text formats, a value for JSON ones */
  body: string | T;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A period bound: a date (the start, or for `to` the end, of that day, UTC) or an instant. */
export function periodBound(value: string | undefined, name: 'from' | 'to'): string | undefined {
  if (value === undefined || value === '') return undefined;
  const d = new Date(DATE.test(value) && name === 'to' ? `${value}T23:59:59.999Z` : value);
  if (Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value))
    throw new SharedcareError(
      'invalid-request',
      `${name} must be a date (YYYY-MM-DD) or an ISO date and time`,
      [{ message: `"${value}" is not a date`, expression: name }],
    );
  return d.toISOString();
}

function period(q: { from?: string | undefined; to?: string | undefined }) {
  const from = periodBound(q.from, 'from');
  const to = periodBound(q.to, 'to');
  if (from && to && from > to)
    throw new SharedcareError('invalid-request', 'from is after to', [
      { message: 'from is after to', expression: 'from' },
    ]);
  return { ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

export function dpoService(db: Database, settings: AuditConfig, deps: DpoDeps) {
  const user = (a: DpoActor): AuditUser => ({
    id: a.userId,
    org: a.org,
    role: a.role,
    ...(a.name ? { name: a.name } : {}),
  });
  /** The record of each read; if it cannot be written, the read fails and returns nothing. */
  const record = async (tx: Queryable, a: DpoActor, e: Omit<AuditEventInput, 'user' | 'outcome'>) => {
    try {
      return await recordAuditEvent(tx, { ...e, outcome: 'success', user: user(a) }, { settings });
    } catch {
      throw new SharedcareError(
        'audit-unavailable',
        'This could not be recorded in the audit trail, so nothing is returned. Try again shortly.',
      );
    }
  };

  return {
    async accessReport(
      actor: DpoActor,
      q: {
        person?: string | undefined;
        user?: string | undefined;
        /** the requests refused before the gate, instead of a person or a user */
        refused?: boolean | undefined;
        from?: string | undefined;
        to?: string | undefined;
      },
      format: ReportFormat = 'json',
    ): Promise<Rendered<ReportRow[] | Bundle>> {
      if ([q.person, q.user, q.refused].filter(Boolean).length !== 1)
        throw new SharedcareError(
          'invalid-request',
          'name a person (NHS number), a user, or ask for refused requests: one of them',
          [{ message: 'give person, user or refused', expression: q.person ? 'user' : 'person' }],
        );
      const p = period(q);
      return db.transaction(async (tx) => {
        const personId = q.person ? await deps.personByNhs(tx, q.person) : undefined;
        const rows = await accessReport(tx, {
          ...(personId ? { personId } : {}),
          ...(q.user ? { userId: q.user } : {}),
          ...(q.refused ? { refused: true } : {}),
          ...p,
        });
        await record(tx, actor, {
          action: 'audit.report',
          ...(personId ? { personId } : {}),
          query: `access-report?by=${q.user ? 'user' : q.refused ? 'refused' : 'person'}&format=${format}${p.from ? `&from=${p.from}` : ''}${p.to ? `&to=${p.to}` : ''}`,
          ...(q.user ? { detail: `staff member ${q.user}` } : {}),
          returnedIds: rows.map((r) => r.seq),
        });
        if (format === 'csv') return { contentType: 'text/csv; charset=utf-8', body: reportCsv(rows) };
        if (format === 'fhir')
          return {
            contentType: 'application/fhir+json; charset=utf-8',
            body: auditEventBundle(rows, { fhirBase: deps.fhirBase }),
          };
        return { contentType: 'application/json; charset=utf-8', body: rows };
      });
    },

    async subjectAccessReport(
      actor: DpoActor,
      q: { person: string; from?: string | undefined; to?: string | undefined },
      format: SubjectAccessFormat = 'html',
    ): Promise<Rendered<SubjectAccessReport>> {
      const p = period(q);
      return db.transaction(async (tx) => {
        const personId = await deps.personByNhs(tx, q.person);
        const rows = await accessReport(tx, { personId, ...p, actions: SUBJECT_ACCESS_ACTIONS });
        const report: SubjectAccessReport = {
          nhsNumber: q.person.replace(/\s/g, ''),
          ...p,
          generatedAt: new Date().toISOString(),
          visits: subjectAccessVisits(rows, await deps.organisationNames(tx)),
        };
        await record(tx, actor, {
          action: 'audit.subject-access',
          personId,
          query: `subject-access-report?format=${format}${p.from ? `&from=${p.from}` : ''}${p.to ? `&to=${p.to}` : ''}`,
          returnedIds: rows.map((r) => r.seq),
        });
        if (format === 'json') return { contentType: 'application/json; charset=utf-8', body: report };
        if (format === 'csv')
          return { contentType: 'text/csv; charset=utf-8', body: subjectAccessCsv(report) };
        if (format === 'text')
          return { contentType: 'text/plain; charset=utf-8', body: subjectAccessText(report) };
        return { contentType: 'text/html; charset=utf-8', body: subjectAccessHtml(report) };
      });
    },

    alerts: (actor: DpoActor, status: 'open' | 'reviewed' | 'all' = 'open'): Promise<Alert[]> =>
      db.transaction(async (tx) => {
        const list = await listAlerts(tx, { status });
        await record(tx, actor, {
          action: 'audit.alerts',
          query: `alerts?status=${status}`,
          returnedIds: list.map((a) => a.id),
        });
        return list;
      }),

    reviewAlert(actor: DpoActor, id: string, note: string): Promise<Alert> {
      if (!note.trim())
        throw new SharedcareError('invalid-request', 'a review needs a note saying what was found', [
          { message: 'note is required', expression: 'note' },
        ]);
      return db.transaction((tx) =>
        reviewAlert(tx, id, actor.userId, note.trim(), (detail, alert) =>
          record(tx, actor, {
            action: 'audit.alert-review',
            ...(alert.personId ? { personId: alert.personId } : {}),
            detail,
          }),
        ),
      );
    },

    /** Verification reads in parallel outside a transaction; its record is written afterwards. */
    async verify(actor: DpoActor): Promise<VerifyResult> {
      const result = await verifyAuditChain(db, { settings });
      await db.transaction((tx) =>
        record(tx, actor, {
          action: 'audit.verify',
          detail: result.ok
            ? `intact: ${result.events} events`
            : `${result.problems.length} problem(s): ${result.problem?.what}`,
        }),
      );
      return result;
    },

    /** Records the request first, so the checkpoint covers it. */
    async checkpoint(actor: DpoActor) {
      await db.transaction((tx) => record(tx, actor, { action: 'audit.checkpoint' }));
      const cp = await writeCheckpoint(db, settings, { force: true });
      return {
        file: cp!.file,
        n: cp!.n,
        at: cp!.at,
        heads: cp!.heads.length,
        ...(cp!.witnessProblems ? { witnessProblems: cp!.witnessProblems } : {}),
      };
    },
  };
}

export type DpoService = ReturnType<typeof dpoService>;
