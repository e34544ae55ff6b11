/**
 * The row a clinical item is stored as: Sharedcare's id, the columns the policy decides on (codes,
 * security labels, status, effective date, links), and the resource as it will be served, with
 * provenance (which organisation and system it came from, under which id, when). Sensitivity is
 * left for the classify stage.
 */
import type { Resource } from '@medplum/fhirtypes';
import {
  CLINICAL_TYPES,
  collectCodes,
  collectSecurityLabels,
  effectiveDate,
  isEnteredInError,
  itemLinks,
  ODS_SYSTEM,
  PROVENANCE_EXTENSION,
  SOURCE_URI_PREFIX,
  statusOf,
} from '../../fhir/index.ts';
import type { SourceSystem } from '../../region/index.ts';
import type { ItemWrite } from '../../store/index.ts';
import { itemId } from '../references.ts';
import { contentHash } from './content-hash.ts';
import type { ResolvedItem } from './resolve-references.ts';

export function withProvenance(
  resource: Resource,
  id: string,
  source: SourceSystem,
  localId: string,
  receivedAt: string,
): Resource {
  const prov = {
    url: PROVENANCE_EXTENSION,
    extension: [
      {
        url: 'organisation',
        valueReference: { identifier: { system: ODS_SYSTEM, value: source.org }, display: source.orgName },
      },
      { url: 'sourceSystem', valueString: source.id },
      { url: 'sourceId', valueString: `${resource.resourceType}/${localId}` },
      ...(resource.meta?.versionId ? [{ url: 'sourceVersion', valueString: resource.meta.versionId }] : []),
      ...(resource.meta?.lastUpdated
        ? [{ url: 'sourceLastUpdated', valueInstant: resource.meta.lastUpdated }]
        : []),
      { url: 'received', valueInstant: receivedAt },
    ],
  };
  const r = resource as Resource & { extension?: { url: string }[] };
  return {
    ...resource,
    id,
    meta: {
      lastUpdated: receivedAt,
      source: `${SOURCE_URI_PREFIX}${source.id}`,
      tag: [{ system: ODS_SYSTEM, code: source.org, display: source.orgName }],
      ...(resource.meta?.security ? { security: resource.meta.security } : {}),
    },
    extension: [...(r.extension ?? []).filter((e) => e.url !== PROVENANCE_EXTENSION), prov],
  } as Resource;
}

export function toItemWrite(source: SourceSystem, item: ResolvedItem, receivedAt: string): ItemWrite {
  const { resource, localId } = item;
  const id = itemId(source.id, resource.resourceType, localId);
  return {
    id,
    personId: item.personId,
    resourceType: resource.resourceType,
    section: CLINICAL_TYPES[resource.resourceType]!.section,
    sourceId: source.id,
    sourceOrg: source.org,
    sourceLocalId: localId,
    sourcePatientId: item.localPatientId,
    sourceVersion: resource.meta?.versionId,
    sourceLastUpdated: resource.meta?.lastUpdated,
    contentHash: contentHash(resource),
    status: statusOf(resource),
    codes: collectCodes(resource),
    security: collectSecurityLabels(resource),
    sensitivity: [],
    ...itemLinks(resource),
    effective: effectiveDate(resource),
    receivedAt,
    deleted: isEnteredInError(resource),
    resource: withProvenance(resource, id, source, localId, receivedAt),
  };
}
