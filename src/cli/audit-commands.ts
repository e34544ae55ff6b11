/**
 * `sharedcare audit verify|report|subject-access|alerts|review|checkpoint`, and the two ways they
 * reach the trail: directly (PostgreSQL, or an embedded folder no server holds) or through the
 * running server's DPO API. Every one of them is audited as the CLI's DPO user.
 */
import type { Command, Option } from 'commander';
import {
  auditAdmin,
  configureAudit,
  type Alert,
  type DpoActor,
  type ReportFormat,
  type SubjectAccessFormat,
  type VerifyResult,
} from '../admin/index.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { actorOptions, requireActor, type CliActor } from './actor.ts';
import type { Backend } from './backend.ts';

type Period = { from?: string | undefined; to?: string | undefined };
export interface Rendered {
  contentType: string;
  body: unknown;
}

export interface AuditBackend {
  verify(): Promise<VerifyResult>;
  report(q: Period & { person?: string; user?: string }, format: ReportFormat): Promise<Rendered>;
  subjectAccess(q: Period & { person: string }, format: SubjectAccessFormat): Promise<Rendered>;
  alerts(status: 'open' | 'reviewed' | 'all'): Promise<Alert[]>;
  review(id: string, note: string): Promise<Alert>;
  checkpoint(): Promise<unknown>;
}

export function directAudit(db: Database, config: Config, actor: DpoActor): AuditBackend {
  configureAudit(config.audit);
  const dpo = auditAdmin(db, config);
  return {
    verify: () => dpo.verify(actor),
    report: (q, f) => dpo.accessReport(actor, q, f),
    subjectAccess: (q, f) => dpo.subjectAccessReport(actor, q, f),
    alerts: (s) => dpo.alerts(actor, s),
    review: (id, note) => dpo.reviewAlert(actor, id, note),
    checkpoint: () => dpo.checkpoint(actor),
  };
}

/** The same through the server's DPO API (the server owns the embedded folder). */
export function serverAudit(base: string, token: string): AuditBackend {
  async function call(method: string, path: string, body?: unknown): Promise<Rendered> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const contentType = res.headers.get('content-type') ?? '';
    const text = await res.text();
    const json = /json/.test(contentType) && text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const issues =
        (json as { issue?: { diagnostics?: string; expression?: string[] }[] } | undefined)?.issue ?? [];
      const problems = issues.map((i) => ({
        message: i.diagnostics ?? '',
        ...(i.expression?.[0] ? { expression: i.expression[0] } : {}),
      }));
      throw new SharedcareError(
        res.status === 403 ? 'forbidden' : res.status === 404 ? 'not-found' : 'invalid-request',
        problems[0]?.message || `server answered ${res.status}`,
        problems.length ? problems : undefined,
      );
    }
    return { contentType, body: json ?? text };
  }
  const qs = (o: Record<string, string | undefined>) =>
    new URLSearchParams(
      Object.entries(o).filter(([, v]) => v !== undefined) as [string, string][],
    ).toString();
  return {
    verify: async () => (await call('GET', '/dpo/audit/verify')).body as VerifyResult,
    report: (q, f) => call('GET', `/dpo/access-report?${qs({ ...q, _format: f })}`),
    subjectAccess: (q, f) => call('GET', `/dpo/subject-access-report?${qs({ ...q, _format: f })}`),
    alerts: async (s) => (await call('GET', `/dpo/alerts?${qs({ status: s })}`)).body as Alert[],
    review: async (id, note) =>
      (await call('POST', `/dpo/alerts/${encodeURIComponent(id)}/review`, { note })).body as Alert,
    checkpoint: async () => (await call('POST', '/dpo/audit/checkpoint')).body,
  };
}

interface Helpers {
  withBackend<T>(fn: (b: Backend) => Promise<T>, opts?: { config?: string; actor?: CliActor }): Promise<T>;
  print(v: unknown): void;
  configOpt(): Option;
}

const where = (p: { chain?: number; seq?: string; checkpoint?: number; alert?: string }) =>
  p.chain !== undefined
    ? `chain ${p.chain}, event ${p.seq}${p.alert ? ` (alert ${p.alert})` : ''}`
    : p.checkpoint !== undefined
      ? `checkpoint ${p.checkpoint}`
      : p.alert
        ? `alert ${p.alert}`
        : 'the checkpoints';

function choice<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
  name: string,
): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T))
    throw new SharedcareError('invalid-request', `${name} must be one of: ${allowed.join(', ')}`);
  return value as T;
}

export function registerAuditCommands(program: Command, { withBackend, print, configOpt }: Helpers): void {
  const out = (r: Rendered): void => {
    if (typeof r.body !== 'string') return print(r.body);
    process.stdout.write(r.body.endsWith('\n') ? r.body : `${r.body}\n`);
  };
  const audit = program.command('audit').description('the audit trail: verification, reports, alerts');

  audit
    .command('verify')
    .description('check every chain of the trail against its hashes and the signed checkpoints')
    .option('--json', 'print the whole result as JSON')
    .addOption(configOpt())
    .action((o) =>
      withBackend(async (b) => {
        const r = await b.audit.verify();
        if (o.json) print(r);
        else if (r.ok) print(`Audit chain intact: ${r.events} events verified.`);
        else {
          print(`AUDIT CHAIN BROKEN at ${where(r.problem!)}: ${r.problem!.what} (${r.events} events read).`);
          for (const p of r.problems.slice(1)) print(`  also at ${where(p)}: ${p.what}`);
        }
        for (const w of r.warnings) process.stderr.write(`sharedcare: note: ${w}\n`);
        if (!r.ok) process.exitCode = 2;
      }, o),
    );

  audit
    .command('report')
    .description("an access report: who looked at a person's record, or whose records a user opened")
    .option('--person <nhs>', "who looked at this person's record")
    .option('--user <id>', 'whose records this user opened')
    .option('--from <date>', 'start (YYYY-MM-DD or ISO date and time)')
    .option('--to <date>', 'end (YYYY-MM-DD: to the end of that day)')
    .option('--format <format>', 'json, csv or fhir (a Bundle of AuditEvents)', 'json')
    .addOption(configOpt())
    .action((o) => {
      const format = choice<ReportFormat>(o.format, ['json', 'csv', 'fhir'], 'json', '--format');
      return withBackend(
        async (b) =>
          out(await b.audit.report({ person: o.person, user: o.user, from: o.from, to: o.to }, format)),
        o,
      );
    });

  audit
    .command('subject-access')
    .description("a person's access report for a subject-access request, in plain language")
    .requiredOption('--nhs <number>', 'NHS number')
    .option('--from <date>', 'start (YYYY-MM-DD)')
    .option('--to <date>', 'end (YYYY-MM-DD)')
    .option('--format <format>', 'text, html, csv or json', 'text')
    .addOption(configOpt())
    .action((o) => {
      const format = choice<SubjectAccessFormat>(
        o.format,
        ['text', 'html', 'csv', 'json'],
        'text',
        '--format',
      );
      return withBackend(
        async (b) => out(await b.audit.subjectAccess({ person: o.nhs, from: o.from, to: o.to }, format)),
        o,
      );
    });

  audit
    .command('alerts')
    .description('alerts raised by the audit rules (open ones unless told otherwise)')
    .option('--open', 'only open alerts (the default)')
    .option('--reviewed', 'only reviewed alerts')
    .option('--all', 'open and reviewed')
    .addOption(configOpt())
    .action((o) =>
      withBackend(
        async (b) => print(await b.audit.alerts(o.all ? 'all' : o.reviewed ? 'reviewed' : 'open')),
        o,
      ),
    );

  actorOptions(audit.command('review'))
    .description('mark an alert reviewed, with a note of what was found')
    .requiredOption('--id <id>', 'the alert id (from audit alerts)')
    .requiredOption('--note <text>', 'what was found and done')
    .addOption(configOpt())
    .action((o) => {
      const actor = requireActor(o);
      return withBackend(async (b) => print(await b.audit.review(o.id, o.note)), { ...o, actor });
    });

  audit
    .command('checkpoint')
    .description('write a signed checkpoint of the chain heads now (the server also does so periodically)')
    .addOption(configOpt())
    .action((o) => withBackend(async (b) => print(await b.audit.checkpoint()), o));
}
