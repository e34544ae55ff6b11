/**
 * Audit events as FHIR R4 AuditEvent, following IHE Basic Audit Log Patterns (BALP 1.1):
 *
 * - record reads: IHE.BasicAudit.PatientQuery for searches and `$everything` (type rest, action E,
 *   the client as Source Role ID 110153 and the server as Destination Role ID 110152, an entity for
 *   the query, base64 of what was asked), IHE.BasicAudit.PatientRead for reads of one resource
 *   (action R, the client as Destination 110152 and the server as Source 110153, a data entity).
 *   Both carry the user as "information recipient" (v3-ParticipationType IRCP, requestor) with the
 *   national RBAC role, and the patient entity (audit-entity-type 1, object-role 1).
 * - refusals, break glass and objection overrides: the BALP authorization-decision pattern (type
 *   Security Alert 110113, subtype AuthZ-Role / AuthZ-Consent, action E) with the user's
 *   organisation as agent PROV and Sharedcare as the authorising server.
 * - exports and subject-access copies: IHE.BasicAudit.PrivacyDisclosure.Source (Export 110106,
 *   iso-21089 disclose, action R).
 * - reads of the trail itself: Audit Log Used (110101); identity and objection changes: Patient
 *   Record (110110) with the iso-21089 lifecycle event.
 *
 * Every event also carries Sharedcare's own action as a subtype, what was returned (count and
 * digest), the policy's reason codes and its place in the hash chain, so nothing is lost.
 */
import type {
  AuditEvent as FhirAuditEvent,
  AuditEventAgent,
  AuditEventEntity,
  Bundle,
  Coding,
} from '@medplum/fhirtypes';
import type { AuditAction, AuditEvent, ChainPosition } from './types.ts';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const REST = 'http://hl7.org/fhir/restful-interaction';
const LIFECYCLE = 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle';
const AUTHZ = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/AuthZsubType';
const BALP_ENTITY = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';
const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const SDS_ROLE = 'https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode';
export const SC_ACTION = 'https://sharedcare.dev/fhir/CodeSystem/audit-action';
const SC_ENTITY = 'https://sharedcare.dev/fhir/CodeSystem/audit-entity-type';
const SC_EXT = 'https://sharedcare.dev/fhir/StructureDefinition/';

type Shape = {
  type: Coding;
  subtype: Coding[];
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  profile?: string;
  read?: boolean;
};

const dcm = (code: string, display: string): Coding => ({ system: DCM, code, display });
const rest = (code: string): Coding => ({ system: REST, code, display: code });
const life = (code: string): Coding => ({ system: LIFECYCLE, code });
const REST_TYPE: Coding = {
  system: 'http://terminology.hl7.org/CodeSystem/audit-event-type',
  code: 'rest',
  display: 'Restful Operation',
};
const SECURITY_ALERT = dcm('110113', 'Security Alert');
const PATIENT_RECORD = dcm('110110', 'Patient Record');
const AUDIT_LOG_USED = dcm('110101', 'Audit Log Used');
const EXPORT = dcm('110106', 'Export');

function shape(e: AuditEvent): Shape {
  const a: AuditAction = e.action;
  switch (a) {
    case 'record.open':
      return { type: REST_TYPE, subtype: [rest('operation')], action: 'E', profile: 'PatientQuery' };
    case 'record.search':
      return { type: REST_TYPE, subtype: [rest('search-type')], action: 'E', profile: 'PatientQuery' };
    case 'patient.search':
      return /^Patient\/[^$?]*$/.test(e.query ?? '')
        ? { type: REST_TYPE, subtype: [rest('read')], action: 'R', profile: 'PatientRead', read: true }
        : { type: REST_TYPE, subtype: [rest('search-type')], action: 'E', profile: 'PatientQuery' };
    case 'document.view':
      return { type: REST_TYPE, subtype: [rest('read')], action: 'R', profile: 'PatientRead', read: true };
    case 'record.export':
    case 'subject-access.copy':
      return { type: EXPORT, subtype: [life('disclose')], action: 'R', profile: 'PrivacyDisclosure.Source' };
    case 'access.refused':
    case 'break-glass':
      return { type: SECURITY_ALERT, subtype: [{ system: AUTHZ, code: 'AuthZ-Role' }], action: 'E' };
    case 'request.refused':
      // no token or one that does not verify: a failed authentication; otherwise an authorisation
      return e.reasons?.some((r) => r === 'no-token' || r === 'token-invalid')
        ? { type: dcm('110114', 'User Authentication'), subtype: [dcm('110122', 'Login')], action: 'E' }
        : { type: SECURITY_ALERT, subtype: [{ system: AUTHZ, code: 'AuthZ-Role' }], action: 'E' };
    case 'objection.override':
      return { type: SECURITY_ALERT, subtype: [{ system: AUTHZ, code: 'AuthZ-Consent' }], action: 'E' };
    case 'objection.record':
      return { type: PATIENT_RECORD, subtype: [life('originate')], action: 'C' };
    case 'objection.withdraw':
    case 'objection.override-end':
      return { type: PATIENT_RECORD, subtype: [life('deprecate')], action: 'U' };
    case 'objection.list':
      return { type: PATIENT_RECORD, subtype: [life('access')], action: 'R' };
    case 'identity.link':
      return { type: PATIENT_RECORD, subtype: [life('link')], action: 'U' };
    case 'identity.split':
      return { type: PATIENT_RECORD, subtype: [life('unlink')], action: 'U' };
    case 'identity.review':
      return e.personId
        ? { type: PATIENT_RECORD, subtype: [life('verify')], action: 'U' }
        : { type: PATIENT_RECORD, subtype: [life('access')], action: 'R' };
    case 'retention.run':
      return { type: PATIENT_RECORD, subtype: [life('destroy')], action: 'D' };
    case 'backup.take':
      return { type: dcm('110100', 'Application Activity'), subtype: [life('archive')], action: 'E' };
    case 'backup.restore':
      return { type: dcm('110100', 'Application Activity'), subtype: [life('restore')], action: 'C' };
    case 'admin.change':
    case 'codes.import':
      return { type: dcm('110100', 'Application Activity'), subtype: [rest('update')], action: 'U' };
    case 'sensitivity.review':
      return { type: PATIENT_RECORD, subtype: [rest('update')], action: 'U' };
    case 'audit.alert':
      return { type: dcm('110113', 'Security Alert'), subtype: [life('originate')], action: 'C' };
    case 'audit.alert-review':
      return { type: AUDIT_LOG_USED, subtype: [rest('update')], action: 'U' };
    case 'audit.prune':
      return { type: AUDIT_LOG_USED, subtype: [life('destroy')], action: 'D' };
    case 'audit.checkpoint':
      return { type: AUDIT_LOG_USED, subtype: [life('attest')], action: 'E' };
    case 'audit.report':
    case 'audit.subject-access':
    case 'audit.verify':
    case 'audit.alerts':
      return { type: AUDIT_LOG_USED, subtype: [rest('search-type')], action: 'E', profile: 'Query' };
  }
}

/** PurposeOfUse: stated by the caller, else what the action implies. */
function purpose(e: AuditEvent): string | undefined {
  if (e.purpose) return e.purpose;
  if (e.action === 'break-glass' || e.basis === 'break-glass') return 'ETREAT';
  if (e.action === 'subject-access.copy' || e.action === 'audit.subject-access') return 'PATRQT';
  if (e.action.startsWith('audit.')) return 'HCOMPL';
  if (e.action === 'retention.run') return 'RECORDMGT';
  if (['admin.change', 'codes.import', 'backup.take', 'backup.restore'].includes(e.action))
    return 'HSYSADMIN';
  if (e.action === 'sensitivity.review') return 'HCOMPL';
  if (
    ['record.open', 'record.search', 'patient.search', 'document.view', 'access.refused'].includes(e.action)
  )
    return 'TREAT';
  return undefined;
}

const OUTCOME = { success: '0', error: '4', refused: '8' } as const;

export interface FhirOptions {
  /** the server's FHIR base URL (the server agent's network address) */
  fhirBase: string;
}

export function toFhirAuditEvent(e: AuditEvent & ChainPosition, opts: FhirOptions): FhirAuditEvent {
  const s = shape(e);
  const pou = purpose(e);
  const purposeOfUse = pou ? [{ coding: [{ system: ACT_REASON, code: pou }] }] : undefined;
  const query = s.profile?.endsWith('Query');
  const agent: AuditEventAgent[] = [];
  if (e.user) {
    agent.push({
      type: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
            code: 'IRCP',
            display: 'information recipient',
          },
        ],
      },
      who: {
        identifier: { ...(e.user.issuer ? { system: e.user.issuer } : {}), value: e.user.id },
        ...(e.user.name ? { display: e.user.name } : {}),
      },
      ...(e.user.name ? { name: e.user.name } : {}),
      requestor: true,
      role: [{ coding: [{ system: SDS_ROLE, code: e.user.role }] }],
      ...(e.basis ? { policy: [`urn:sharedcare:basis:${e.basis}`] } : {}),
      ...(purposeOfUse ? { purposeOfUse } : {}),
    });
    agent.push({
      type: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/v3-RoleClass',
            code: 'PROV',
            display: 'healthcare provider',
          },
        ],
      },
      who: { identifier: { system: ODS, value: e.user.org } },
      requestor: false,
    });
  }
  // BALP: for a query the client is the Source Role (110153) and the server the Destination (110152);
  // for a read, the other way round. Sharedcare records as the server.
  const [clientRole, serverRole] = s.read ? ['110152', '110153'] : ['110153', '110152'];
  const roleName = (c: string) => (c === '110152' ? 'Destination Role ID' : 'Source Role ID');
  if (e.client || e.network)
    agent.push({
      type: { coding: [dcm(clientRole, roleName(clientRole))] },
      who: { display: e.client ?? 'unidentified client' },
      requestor: false,
      ...(e.network ? { network: { address: e.network, type: '2' as const } } : {}),
    });
  agent.push({
    type: { coding: [dcm(serverRole, roleName(serverRole))] },
    who: { display: 'Sharedcare' },
    requestor: false,
    network: { address: opts.fhirBase, type: '5' },
  });
  if (s.type.code === '110113')
    agent.push({
      type: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type',
            code: 'authserver',
            display: 'authorization server',
          },
        ],
      },
      who: { display: 'Sharedcare' },
      requestor: false,
    });

  const entity: AuditEventEntity[] = [];
  if (e.personId)
    entity.push({
      what: { reference: `Patient/${e.personId}` },
      type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
      role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
    });
  if (e.query && query)
    entity.push({
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '24', display: 'Query' },
      description: e.query,
      query: Buffer.from(e.query).toString('base64'),
    });
  if (s.read)
    entity.push({
      what: {
        reference: e.query?.startsWith('Patient/')
          ? `Patient/${e.personId}`
          : (e.query ?? `Patient/${e.personId}`),
      },
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
    });
  if (e.returned)
    entity.push({
      what: { identifier: { system: 'urn:ietf:rfc:3986', value: `urn:sha256:${e.returned.digest}` } },
      type: { system: SC_ENTITY, code: 'returned-set', display: 'What was returned' },
      role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
      description: `${e.returned.count} resource(s) returned; the digest is SHA-256 over their ids`,
      detail: [{ type: 'count', valueString: String(e.returned.count) }],
    });
  if (e.requestId)
    entity.push({
      type: { system: BALP_ENTITY, code: 'XrequestId' },
      what: { identifier: { value: e.requestId } },
    });

  return {
    resourceType: 'AuditEvent',
    id: e.seq,
    ...(s.profile ? { meta: { profile: [`${BALP}${s.profile}`] } } : {}),
    extension: [
      ...(e.reasons ?? []).map((r) => ({ url: `${SC_EXT}audit-reason`, valueCode: r })),
      {
        url: `${SC_EXT}audit-chain`,
        extension: [
          { url: 'chain', valueInteger: e.chain },
          { url: 'seq', valueString: e.chainSeq },
          { url: 'hash', valueString: e.hash },
        ],
      },
    ],
    type: s.type,
    subtype: [...s.subtype, { system: SC_ACTION, code: e.action }],
    action: s.action,
    recorded: e.at,
    outcome: OUTCOME[e.outcome],
    ...(e.outcome !== 'success' || e.detail
      ? { outcomeDesc: [e.reasons?.join(', '), e.detail].filter(Boolean).join(': ') }
      : {}),
    ...(purposeOfUse ? { purposeOfEvent: purposeOfUse } : {}),
    agent,
    source: {
      site: opts.fhirBase,
      observer: { display: 'Sharedcare' },
      type: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/security-source-type',
          code: '4',
          display: 'Application Server',
        },
      ],
    },
    ...(entity.length ? { entity } : {}),
  };
}

export function auditEventBundle(rows: (AuditEvent & ChainPosition)[], opts: FhirOptions): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: rows.length,
    entry: rows.map((r) => ({
      fullUrl: `${opts.fhirBase}/AuditEvent/${r.seq}`,
      resource: toFhirAuditEvent(r, opts),
      search: { mode: 'match' as const },
    })),
  };
}
