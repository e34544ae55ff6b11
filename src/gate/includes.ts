/**
 * `_include`: what the page's items refer to, brought in beside them. Only references of items the
 * reader is being served are followed, so nothing is included for an item that was withheld.
 *
 * - Organizations: intake keeps a referenced organisation as its name and ODS code
 *   (src/ingest/references.ts); the region's directory answers for it, unless it is never shared.
 * - Practitioners and Medications: intake keeps those a source sent as directory entries
 *   (src/store/directory.ts); an item names one by an extension on the reference's display text, or
 *   on its medicationCodeableConcept. Each is classified here by the same policy as an item (its
 *   codes, security labels, organisation and words): one the policy labels is never included, nor
 *   one from an organisation never shared or that the person objected to.
 *
 * The served copy's reference then points at what was included; a MedicationRequest or
 * MedicationStatement whose Medication is included carries medicationReference (with the drug's
 * text as display) instead of medicationCodeableConcept, since FHIR allows one medication[x].
 */
import type { Organization } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import {
  DIRECTORY_ENTRY_EXTENSION,
  ODS_SYSTEM,
  parseStored,
  stringifyKeepingDecimals,
  valuesAt,
  type IncludeDef,
} from '../fhir/index.ts';
import type { Classifier } from '../policy/index.ts';
import type { RegionSnapshot } from '../region/index.ts';
import { readDirectoryEntries, type ItemRow } from '../store/index.ts';
import type { Granted } from './governed.ts';
import type { Entry } from './search-bundle.ts';

export interface IncludeDeps {
  neverShared: (ods: string) => boolean;
  classify: Classifier;
}

type Ref = {
  reference?: string;
  display?: string;
  text?: string;
  identifier?: { system?: string; value?: string };
  extension?: { url?: string; valueString?: string }[];
};

export function organisationResource(region: RegionSnapshot, ods: string): Organization | undefined {
  const org = region.organisations.get(ods);
  if (!org) return undefined;
  return {
    resourceType: 'Organization',
    id: ods,
    identifier: [{ system: ODS_SYSTEM, value: ods }],
    active: true,
    name: org.name,
  };
}

/** The directory entry ("Practitioner/{id}") an element names, if it is of one of these types. */
function directoryEntryOf(element: Ref, targets: string[]): { type: string; id: string } | undefined {
  const link = element.extension?.find((e) => e.url === DIRECTORY_ENTRY_EXTENSION)?.valueString;
  const [type, id] = link?.split('/') ?? [];
  return type && id && targets.includes(type) ? { type, id } : undefined;
}

interface Pending {
  resource: Record<string, unknown>;
  row: ItemRow;
  /** point the element at the included resource */
  points: { key: string; apply: () => void }[];
}

export interface Included {
  rows: ItemRow[];
  entries: Entry[];
  /** what was included, for the audit event */
  ids: string[];
}

export async function withIncludes(
  tx: Queryable,
  rows: ItemRow[],
  include: IncludeDef[],
  g: Granted,
  d: IncludeDeps,
): Promise<Included> {
  if (include.length === 0) return { rows, entries: [], ids: [] };
  const orgs = new Map<string, Organization>();
  const wanted = new Set<string>();
  const pending = new Map<ItemRow, Pending>();
  for (const row of rows) {
    const resource = parseStored(row.body) as Record<string, unknown>;
    const p: Pending = { resource, row, points: [] };
    for (const def of include)
      for (const path of def.paths)
        for (const element of valuesAt(resource, path) as Ref[]) {
          if (def.targets.includes('Organization')) {
            const ods = element.identifier?.system === ODS_SYSTEM ? element.identifier.value : undefined;
            const org = ods && !d.neverShared(ods) ? organisationResource(g.region, ods) : undefined;
            if (org && !element.reference) {
              orgs.set(ods!, org);
              p.points.push({
                key: `Organization/${ods}`,
                apply: () => (element.reference = `Organization/${ods}`),
              });
              continue;
            }
          }
          const entry = directoryEntryOf(element, def.targets);
          if (!entry) continue;
          wanted.add(entry.id);
          p.points.push({
            key: `${entry.type}/${entry.id}`,
            apply:
              path === 'medicationCodeableConcept'
                ? () => {
                    delete resource.medicationCodeableConcept;
                    resource.medicationReference = {
                      reference: `${entry.type}/${entry.id}`,
                      ...(element.text ? { display: element.text } : {}),
                    };
                  }
                : () => (element.reference = `${entry.type}/${entry.id}`),
          });
        }
    if (p.points.length > 0) pending.set(row, p);
  }
  const entries: Entry[] = [...orgs.values()].map((o) => ({
    resourceType: 'Organization',
    id: o.id!,
    body: JSON.stringify(o),
    mode: 'include',
  }));
  const served = new Set([...orgs.keys()].map((ods) => `Organization/${ods}`));
  const ids: string[] = [...orgs.keys()];
  const excluded = new Set(g.policy.filter.excludeOrgs);
  for (const e of await readDirectoryEntries(tx, [...wanted], ['Practitioner', 'Medication'])) {
    if (d.neverShared(e.sourceOrg) || excluded.has(e.sourceOrg)) continue;
    if (d.classify(e.codes, e.security, e.sourceOrg, JSON.parse(e.body)).length > 0) continue;
    served.add(`${e.resourceType}/${e.id}`);
    ids.push(e.id);
    entries.push({ resourceType: e.resourceType, id: e.id, body: e.body, mode: 'include' });
  }
  const out = rows.map((row) => {
    const p = pending.get(row);
    const points = p?.points.filter((pt) => served.has(pt.key)) ?? [];
    if (!p || points.length === 0) return row;
    for (const pt of points) pt.apply();
    return { ...row, body: stringifyKeepingDecimals(p.resource) };
  });
  return { rows: out, entries, ids };
}
