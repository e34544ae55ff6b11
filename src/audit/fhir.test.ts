import { validateResource } from '@medplum/core';
import { describe, expect, it } from 'vitest';
import { loadFhirDefinitions } from '../fhir/index.ts';
import { auditEventBundle, toFhirAuditEvent } from './fhir.ts';
import { AUDIT_ACTIONS as ACTIONS, type AuditAction, type AuditEvent, type ChainPosition } from './types.ts';

const pos: ChainPosition = { seq: '42', chain: 3, chainSeq: '7', hash: 'a'.repeat(64) };
const event = (action: AuditAction, extra: Partial<AuditEvent> = {}): AuditEvent & ChainPosition => ({
  action,
  outcome: action === 'access.refused' ? 'refused' : 'success',
  at: '2026-03-04T12:00:00.000Z',
  user: { id: 'dr.x', org: 'RX1', role: 'R8000', name: 'Dr X', issuer: 'urn:sharedcare:dev-issuer' },
  client: 'gp-record-app',
  network: '10.0.0.7',
  requestId: 'req-1',
  personId: '6f1b8a0e-0000-4000-8000-000000000001',
  query: 'Observation?date=ge2020',
  returned: { count: 3, digest: 'b'.repeat(64) },
  basis: 'registered-gp',
  reasons: action === 'access.refused' ? ['no-relationship'] : [],
  ...extra,
  ...pos,
});

describe('audit events as FHIR R4 AuditEvent (IHE BALP)', () => {
  it.each(ACTIONS)('%s is a valid R4 AuditEvent', (action) => {
    loadFhirDefinitions();
    const fhir = toFhirAuditEvent(event(action), { fhirBase: 'https://sc.example/fhir' });
    expect(() => validateResource(fhir)).not.toThrow();
    expect(fhir.subtype).toContainEqual({
      system: 'https://sharedcare.dev/fhir/CodeSystem/audit-action',
      code: action,
    });
    expect(fhir.agent.filter((a) => a.requestor)).toHaveLength(1);
  });

  it('maps a read of one resource to PatientRead, with the client as Destination and the server as Source', () => {
    const fhir = toFhirAuditEvent(event('patient.search', { query: 'Patient/{id}' }), {
      fhirBase: 'https://sc.example/fhir',
    });
    expect(fhir.meta?.profile).toEqual([
      'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientRead',
    ]);
    expect(fhir.action).toBe('R');
    const role = (code: string) => fhir.agent.find((a) => a.type?.coding?.[0]?.code === code);
    expect(role('110152')?.who?.display).toBe('gp-record-app');
    expect(role('110153')?.network).toEqual({ address: 'https://sc.example/fhir', type: '5' });
    expect(fhir.entity?.find((e) => e.type?.code === 'XrequestId')?.what?.identifier?.value).toBe('req-1');
  });

  it('marks break glass as emergency treatment and a subject-access copy as patient requested', () => {
    const glass = toFhirAuditEvent(event('record.open', { basis: 'break-glass' }), { fhirBase: 'x' });
    expect(glass.purposeOfEvent?.[0]?.coding?.[0]?.code).toBe('ETREAT');
    const copy = toFhirAuditEvent(event('subject-access.copy'), { fhirBase: 'x' });
    expect(copy).toMatchObject({
      type: { code: '110106' },
      purposeOfEvent: [{ coding: [{ code: 'PATRQT' }] }],
    });
  });

  it('wraps events in a searchset Bundle', () => {
    const b = auditEventBundle([event('record.open')], { fhirBase: 'https://sc.example/fhir' });
    loadFhirDefinitions();
    expect(() => validateResource(b)).not.toThrow();
    expect(b.entry?.[0]?.fullUrl).toBe('https://sc.example/fhir/AuditEvent/42');
  });
});
