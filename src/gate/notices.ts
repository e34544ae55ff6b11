import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { AccessDecision } from '../access/index.ts';
import type { RecordDecision } from '../policy/index.ts';

export const NOT_FULL_RECORD =
  'This is a shared care record: it shows what the organisations taking part share, not the full record held by each of them.';

const SCOPE_TEXT: Record<string, (t: string | null, name?: string) => string> = {
  record: () =>
    'The person has objected to sharing their record. It is withheld; only the fact that it exists is shown.',
  organisation: (t, name) =>
    `The person has objected to sharing the data held by ${name ? `${name} (${t})` : `organisation ${t}`}.`,
  category: (t) => `The person has objected to sharing their ${t}.`,
  item: () => 'The person has objected to sharing some specific items.',
};

export const IDENTITY_PENDING =
  'This record may be incomplete: records from other services that may belong to this person are waiting to be checked.';

/** Sharedcare's codes for the notices, so that a viewer need not read the wording. */
export const NOTICE_SYSTEM = 'https://sharedcare.dev/fhir/CodeSystem/record-notice';
const coded = (code: string, text: string) => ({ coding: [{ system: NOTICE_SYSTEM, code }], text });

/** On an objection notice: the organisation whose data is withheld (the sources panel says so). */
export const OBJECTION_ORGANISATION_EXT =
  'https://sharedcare.dev/fhir/StructureDefinition/objection-organisation';
/** On the break-glass notice: when the access ends. */
export const BREAK_GLASS_UNTIL_EXT = 'https://sharedcare.dev/fhir/StructureDefinition/break-glass-until';
const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';

const ukTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hour: '2-digit',
  minute: '2-digit',
});
const ukDate = (iso: string) => new Date(iso).toLocaleDateString('en-GB', { timeZone: 'Europe/London' });

/** The notices a reader must see with the record: never which item was withheld. */
export function recordNotices(
  decision: RecordDecision,
  access?: AccessDecision,
  /** an organisation whose every item is never shared is not named, even here */
  neverShared: (ods: string) => boolean = () => false,
  /** an organisation's name, to name it in an objection notice */
  orgName: (ods: string) => string | undefined = () => undefined,
  /** source records that may be this person's, waiting in the identity review queue */
  identityPending = 0,
): OperationOutcome {
  const hidden = (scope: string, target: string | null): target is string =>
    scope === 'organisation' && !!target && neverShared(target);
  const text = (scope: string, target: string | null) =>
    hidden(scope, target)
      ? 'The person has objected to sharing the data held by one organisation.'
      : SCOPE_TEXT[scope]!(target, target ? orgName(target) : undefined);
  const issue: OperationOutcomeIssue[] = [
    {
      severity: 'information',
      code: 'informational',
      details: coded('not-full-record', NOT_FULL_RECORD),
      diagnostics: NOT_FULL_RECORD,
    },
  ];
  if (access?.allowed && access.breakGlass) {
    const until = access.breakGlassUntil;
    issue.push({
      severity: 'warning',
      code: 'security',
      details: coded('break-glass', 'Access by break glass'),
      diagnostics: `Access by break glass: time-limited, recorded, and reviewed by the data protection officer.${
        until ? ` It ends at ${ukTime.format(new Date(until))} on ${ukDate(until)} (UK time).` : ''
      }`,
      ...(until ? { extension: [{ url: BREAK_GLASS_UNTIL_EXT, valueInstant: until }] } : {}),
    });
  }
  if (identityPending > 0) {
    issue.push({
      severity: 'warning',
      code: 'incomplete',
      details: coded('identity-review', 'Record may be incomplete'),
      diagnostics: IDENTITY_PENDING,
    });
  }
  for (const n of decision.notices) {
    if (n.overridden) {
      const until = ukDate(n.overridden.until);
      issue.push({
        severity: 'warning',
        code: 'informational',
        details: coded('objection', 'Objection not upheld for a time'),
        diagnostics: `${text(n.scope, n.target).replace(/ It is withheld;.*$/, '')} The objection is not upheld until ${until} (${n.overridden.ground === 'safeguarding' ? 'safeguarding' : 'public interest'}); the person has been told.`,
      });
      continue;
    }
    issue.push({
      severity: 'information',
      code: n.scope === 'record' ? 'suppressed' : 'informational',
      details: n.scope === 'record' ? coded('withheld', 'Record withheld') : coded('objection', 'Objection'),
      diagnostics: text(n.scope, n.target),
      ...(n.scope === 'organisation' && n.target && !hidden(n.scope, n.target)
        ? {
            extension: [
              {
                url: OBJECTION_ORGANISATION_EXT,
                valueIdentifier: { system: ODS_SYSTEM, value: n.target },
              },
            ],
          }
        : {}),
    });
  }
  return { resourceType: 'OperationOutcome', issue };
}
