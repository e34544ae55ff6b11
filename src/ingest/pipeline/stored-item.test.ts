import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { PROVENANCE_EXTENSION } from '../../fhir/index.ts';
import { itemId } from '../references.ts';
import { contentHash } from './content-hash.ts';
import { condition, SOURCE } from './fixtures.test-kit.ts';
import { toItemWrite } from './stored-item.ts';

const resolved = (resource: Resource) => ({
  i: 0,
  resource,
  localId: 'c1',
  personId: 'person-1',
  localPatientId: 'p1',
});

describe('stored item', () => {
  it('is keyed by source, type and local id, carries the policy columns and says where it came from', () => {
    const item = toItemWrite(
      SOURCE,
      resolved(condition('c1', 'Patient/person-1')),
      '2026-01-01T00:00:00.000Z',
    );
    expect(item.id).toBe(itemId('pas-test', 'Condition', 'c1'));
    expect(item).toMatchObject({
      personId: 'person-1',
      section: 'problems',
      sourceOrg: 'RX1',
      deleted: false,
    });
    expect(item.codes).toContain('http://snomed.info/sct|38341003');
    const ext = (
      item.resource as { extension?: { url: string; extension: { url: string; valueString?: string }[] }[] }
    ).extension!.find((e) => e.url === PROVENANCE_EXTENSION)!;
    expect(ext.extension.find((e) => e.url === 'sourceSystem')?.valueString).toBe('pas-test');
    expect(item.resource.meta?.source).toMatch(/pas-test$/);
  });

  it('marks entered-in-error as deleted', () => {
    const r = {
      ...condition('c1', 'Patient/x'),
      verificationStatus: { coding: [{ code: 'entered-in-error' }] },
    };
    expect(toItemWrite(SOURCE, resolved(r as Resource), '2026-01-01T00:00:00Z').deleted).toBe(true);
  });

  it('hashes content and security labels, not the rest of meta', () => {
    const c = condition('c1', 'Patient/x');
    expect(contentHash({ ...c, meta: { versionId: '7' } })).toBe(contentHash(c));
    expect(contentHash({ ...c, meta: { security: [{ code: 'R' }] } })).not.toBe(contentHash(c));
  });
});
