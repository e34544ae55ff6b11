/**
 * A person's access report for a subject-access request, in plain language and fit to send: which
 * organisations, and which kinds of staff there, looked at the record, when, what they looked at
 * and why they were allowed to. It names organisations and roles, never members of staff (their
 * identity is the organisation's to disclose if the law requires it), and leaves out system
 * identifiers and reads of the audit trail itself. One visit is one member of staff's accesses on one
 * day with less than 30 minutes between them.
 */
import { stringify } from 'csv-stringify/sync';
import { safeCell } from './csv.ts';
import type { ReportRow } from './report.ts';
import { ACCESS_ACTIONS, type AuditAction } from './types.ts';

/** What a subject-access report lists: every access to the record, and overrides of objections. */
export const SUBJECT_ACCESS_ACTIONS: AuditAction[] = [...ACCESS_ACTIONS, 'objection.override'];

const ROLES: Record<string, string> = {
  R8000: 'Clinical practitioner',
  R8001: 'Nurse',
  R8002: 'Nurse manager',
  R8003: 'Health professional',
  R8004: 'Healthcare student',
  R0260: 'GP (general medical practitioner)',
  R1981: 'Psychiatrist',
  R0243: 'Social care worker',
  'social-worker': 'Social worker',
  R8006: 'Medical secretary',
  R8008: 'Administrative or clinical support staff',
  R8009: 'Receptionist',
  R8010: 'Clerical staff',
};

const BASIS: Record<string, string> = {
  'registered-gp': 'you are registered with this GP practice',
  'care-team': 'they are part of a care team looking after you',
  'social-care-case': 'you have a social care case with them',
  episode: 'you have an episode of care with them',
  encounter: 'you had a visit, attendance or stay with them',
  appointment: 'you have an appointment with them',
  referral: 'you were referred to them',
  'break-glass': 'emergency access: they had no existing care relationship with you and gave a reason',
};

const EMERGENCY: Record<string, string> = {
  'emergency-care': 'you needed care urgently',
  'new-referral': 'a referral or admission not yet recorded',
  safeguarding: 'a safeguarding concern',
};

const SECTIONS: Record<string, string> = {
  Condition: 'problems and diagnoses',
  Observation: 'test results and observations',
  DiagnosticReport: 'test results',
  MedicationStatement: 'medicines',
  MedicationRequest: 'medicines',
  AllergyIntolerance: 'allergies',
  Immunization: 'immunisations',
  Encounter: 'visits and admissions',
  EpisodeOfCare: 'episodes of care',
  Appointment: 'appointments',
  DocumentReference: 'letters and documents',
  CarePlan: 'care plans',
  ServiceRequest: 'referrals',
  Procedure: 'procedures',
  Flag: 'alerts',
};

function what(r: ReportRow): string {
  switch (r.action) {
    case 'record.open':
      return 'looked at your record';
    case 'record.search':
      return `looked at your ${SECTIONS[(r.query ?? '').split('?')[0]!] ?? 'record (one part)'}`;
    case 'patient.search':
      return 'found your record (name, date of birth and NHS number)';
    case 'document.view':
      return 'looked at a letter or document';
    case 'record.export':
      return 'made a copy of your record';
    case 'subject-access.copy':
      return 'made a copy of your record for you';
    case 'break-glass':
      return `used emergency access (“break glass”) because of ${EMERGENCY[r.reasons?.[1] ?? ''] ?? 'a stated reason'}`;
    case 'access.refused':
      return 'tried to look at your record and was refused';
    case 'objection.override':
      return 'overrode your objection to sharing (for safeguarding or the public interest)';
    default:
      return 'used your record';
  }
}

export interface Visit {
  date: string;
  from: string;
  to: string;
  organisation: string;
  organisationCode: string;
  role: string;
  what: string[];
  why: string;
}

const london = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', dateStyle: 'long' });
const londonTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** Groups one person's access events into visits, oldest first. */
export function subjectAccessVisits(rows: ReportRow[], orgNames: Map<string, string>): Visit[] {
  const open = new Map<string, { visit: Visit; last: number }>();
  const visits: Visit[] = [];
  for (const r of rows) {
    if (!r.user || !SUBJECT_ACCESS_ACTIONS.includes(r.action)) continue;
    const t = new Date(r.at).getTime();
    const key = `${r.user.org}|${r.user.role}|${r.user.id}`;
    const cur = open.get(key);
    const doing = what(r);
    if (cur && t - cur.last < 30 * 60_000 && london.format(t) === cur.visit.date) {
      cur.last = t;
      cur.visit.to = londonTime.format(t);
      if (!cur.visit.what.includes(doing)) cur.visit.what.push(doing);
      continue;
    }
    const visit: Visit = {
      date: london.format(t),
      from: londonTime.format(t),
      to: londonTime.format(t),
      organisation: orgNames.get(r.user.org) ?? `Organisation ${r.user.org}`,
      organisationCode: r.user.org,
      role: ROLES[r.user.role] ?? `Staff member (role ${r.user.role})`,
      what: [doing],
      why:
        r.action === 'access.refused'
          ? 'they had no care relationship with you, so nothing was shown'
          : (BASIS[r.basis ?? (r.action === 'break-glass' ? 'break-glass' : '')] ??
            'their work for your care'),
    };
    open.set(key, { visit, last: t });
    visits.push(visit);
  }
  return visits;
}

export interface SubjectAccessReport {
  nhsNumber: string;
  from?: string | undefined;
  to?: string | undefined;
  generatedAt: string;
  visits: Visit[];
}

const period = (r: SubjectAccessReport) =>
  r.from || r.to
    ? `from ${r.from ? london.format(new Date(r.from)) : 'the start of the record'} to ${r.to ? london.format(new Date(r.to)) : 'today'}`
    : 'for as long as the record has been kept';

const INTRO =
  'The shared care record lets health and care staff who look after you see information from the organisations that care for you. ' +
  'Every time someone looks at it, this is recorded. This report lists each time, the organisation and the kind of staff member, ' +
  'what they looked at and why they were allowed to. It does not name individual staff members.';
const OUTRO =
  'If you think someone looked at your record who should not have, or you have any questions, contact the data protection officer ' +
  'of the shared care record, quoting this report.';

const nhs = (n: string) => n.replace(/^(\d{3})(\d{3})(\d{4})$/, '$1 $2 $3');

export function subjectAccessText(r: SubjectAccessReport): string {
  const lines = [
    'Who has looked at your shared care record',
    '',
    `NHS number: ${nhs(r.nhsNumber)}`,
    `Period: ${period(r)}`,
    `Produced: ${london.format(new Date(r.generatedAt))}`,
    '',
    INTRO,
    '',
  ];
  if (r.visits.length === 0) lines.push('Nobody looked at your record in this period.');
  for (const v of r.visits) {
    const time = v.from === v.to ? `at ${v.from}` : `from ${v.from} to ${v.to}`;
    lines.push(`${v.date}, ${time}: a ${v.role.toLowerCase()} at ${v.organisation} (${v.organisationCode})`);
    lines.push(`  What: ${v.what.join('; ')}`);
    lines.push(`  Why: ${v.why}`);
    lines.push('');
  }
  lines.push(OUTRO);
  return `${lines.join('\n')}\n`;
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function subjectAccessHtml(r: SubjectAccessReport): string {
  const rows = r.visits
    .map(
      (v) =>
        `<tr><td>${esc(v.date)}</td><td>${esc(v.from === v.to ? v.from : `${v.from}–${v.to}`)}</td><td>${esc(v.organisation)} (${esc(v.organisationCode)})</td><td>${esc(v.role)}</td><td>${esc(v.what.join('; '))}</td><td>${esc(v.why)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Who has looked at your shared care record</title>
<style>body{font-family:Arial,sans-serif;max-width:60rem;margin:2rem auto;line-height:1.5}table{border-collapse:collapse;width:100%}th,td{border:1px solid #aaa;padding:.4rem;text-align:left;vertical-align:top}</style></head>
<body><h1>Who has looked at your shared care record</h1>
<p>NHS number: ${esc(nhs(r.nhsNumber))}<br>Period: ${esc(period(r))}<br>Produced: ${esc(london.format(new Date(r.generatedAt)))}</p>
<p>${esc(INTRO)}</p>
${r.visits.length ? `<table><thead><tr><th>Date</th><th>Time</th><th>Organisation</th><th>Staff role</th><th>What they did</th><th>Why they could</th></tr></thead><tbody>\n${rows}\n</tbody></table>` : '<p>Nobody looked at your record in this period.</p>'}
<p>${esc(OUTRO)}</p></body></html>
`;
}

export function subjectAccessCsv(r: SubjectAccessReport): string {
  return stringify(
    r.visits.map((v) =>
      [v.date, v.from, v.to, v.organisation, v.organisationCode, v.role, v.what.join('; '), v.why].map(
        safeCell,
      ),
    ),
    {
      header: true,
      columns: ['date', 'from', 'to', 'organisation', 'organisation_code', 'staff_role', 'what', 'why'],
    },
  );
}
