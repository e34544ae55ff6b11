/**
 * Reconciliation in FHIR terms. In: a stored item (Sharedcare stamped its source on it at intake:
 * src/ingest). Out: a Provenance per item (target the item, agent the source organisation,
 * recorded when Sharedcare received it), a List per group of two or more items (its entries are
 * the items, each as its source reported it; disagreements as extensions), and how current each
 * contributing source is (an extension for Bundle.meta).
 */
import type { Extension, List, ListEntry, Provenance, Resource } from '@medplum/fhirtypes';
import { deterministicUuid, ODS_SYSTEM, PROVENANCE_EXTENSION, SOURCE_URI_PREFIX } from '../fhir/index.ts';
import type { SourceItem } from './fields.ts';
import type { ReconciledGroup } from './reconcile.ts';

const SD = 'https://sharedcare.dev/fhir/StructureDefinition';
export const RECONCILIATION_SYSTEM = 'https://sharedcare.dev/fhir/CodeSystem/reconciliation';
export const CONFLICT_EXTENSION = `${SD}/reconciliation-conflict`;
export const SOURCE_CURRENCY_EXTENSION = `${SD}/source-currency`;
const PARTICIPANT_TYPE = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';

/** A stored item's source, from the provenance Sharedcare stamped on it. */
export function sourceItemOf(resource: Resource, person: string): SourceItem {
  const ext = (resource as { extension?: Extension[] }).extension?.find(
    (e) => e.url === PROVENANCE_EXTENSION,
  );
  const part = (url: string) => ext?.extension?.find((e) => e.url === url);
  const org = part('organisation')?.valueReference;
  const tag = resource.meta?.tag?.find((t) => t.system === ODS_SYSTEM);
  const ods = org?.identifier?.value ?? tag?.code ?? 'unknown';
  const received = part('received')?.valueInstant ?? resource.meta?.lastUpdated;
  return {
    id: resource.id ?? '',
    resourceType: resource.resourceType,
    person,
    resource,
    sourceOrg: ods,
    sourceOrgName: org?.display ?? tag?.display ?? ods,
    sourceSystem:
      part('sourceSystem')?.valueString ?? resource.meta?.source?.replace(SOURCE_URI_PREFIX, '') ?? 'unknown',
    ...(received ? { received } : {}),
  };
}

const orgRef = (ods: string, name: string) => ({
  identifier: { system: ODS_SYSTEM, value: ods },
  display: name,
});

export function provenanceFor(item: SourceItem, now: string): Provenance {
  const sourceId = (item.resource as { extension?: Extension[] }).extension
    ?.find((e) => e.url === PROVENANCE_EXTENSION)
    ?.extension?.find((e) => e.url === 'sourceId')?.valueString;
  return {
    resourceType: 'Provenance',
    id: deterministicUuid(
      `provenance:${item.resourceType}/${item.id}@${item.resource.meta?.versionId ?? ''}`,
    ),
    target: [{ reference: `${item.resourceType}/${item.id}` }],
    recorded: item.received ?? now,
    agent: [
      {
        type: { coding: [{ system: PARTICIPANT_TYPE, code: 'author', display: 'Author' }] },
        who: orgRef(item.sourceOrg, item.sourceOrgName),
      },
    ],
    entity: [
      {
        role: 'source',
        what: { display: `${item.sourceSystem}${sourceId ? ` ${sourceId}` : ''}` },
      },
    ],
  };
}

/** The conflict as a reader would say it: "dose: 500mg twice a day (GP) vs 1g twice a day (hospital)". */
export function describeConflicts(group: ReconciledGroup): string[] {
  const names = new Map(group.mentions.map((m) => [m.sourceOrg, m.sourceOrgName]));
  return group.conflicts.map(
    (c) =>
      `${c.label}: ${c.positions
        .map((p) => `${p.value} (${p.sourceOrgs.map((o) => names.get(o) ?? o).join(', ')})`)
        .join(' vs ')}`,
  );
}

export function groupList(group: ReconciledGroup, personId: string, now: string): List {
  const conflicting = new Map<string, string[]>();
  for (const c of group.conflicts)
    for (const p of c.positions)
      for (const id of p.itemIds) conflicting.set(id, [...(conflicting.get(id) ?? []), c.label]);
  const texts = describeConflicts(group);
  const entry: ListEntry[] = group.mentions.map((m) => ({
    item: { reference: `${m.resourceType}/${m.itemId}`, display: `${m.sourceOrgName}: ${m.wording}` },
    ...(conflicting.has(m.itemId)
      ? {
          flag: {
            coding: [
              { system: RECONCILIATION_SYSTEM, code: 'conflict', display: 'Disagrees with another source' },
            ],
            text: `disagrees on ${conflicting.get(m.itemId)!.join(', ')}`,
          },
        }
      : {}),
  }));
  return {
    resourceType: 'List',
    id: group.id,
    ...(group.conflicts.length
      ? {
          extension: group.conflicts.map((c, i) => ({
            url: CONFLICT_EXTENSION,
            extension: [
              { url: 'field', valueCode: c.field },
              { url: 'text', valueString: texts[i]! },
              ...c.positions.flatMap((p) => [
                {
                  url: 'position',
                  extension: [
                    { url: 'value', valueString: p.value },
                    ...p.itemIds.map((id) => ({
                      url: 'item',
                      valueReference: {
                        reference: `${group.mentions.find((m) => m.itemId === id)!.resourceType}/${id}`,
                      },
                    })),
                  ],
                },
              ]),
            ],
          })),
        }
      : {}),
    status: 'current',
    mode: 'snapshot',
    title: group.mentions[0]!.wording,
    code: {
      coding: [
        {
          system: RECONCILIATION_SYSTEM,
          code: group.rule ?? 'same',
          display: group.label ?? 'the same item',
        },
      ],
      text: `Reported by ${new Set(group.mentions.map((m) => m.sourceOrg)).size} source(s): ${group.label ?? 'the same item'}`,
    },
    subject: { reference: `Patient/${personId}` },
    date: now,
    entry,
  };
}

export interface SourceCurrency {
  sourceSystem: string;
  sourceOrg: string;
  sourceOrgName: string;
  mode: 'live' | 'batch';
  /** when the source last sent anything (to anyone): how current its feed is */
  lastReceived?: string;
  /** when the newest of this person's items shown from it arrived */
  lastReceivedForPerson?: string;
}

/** The sources behind the items shown, with how current each is. */
export function sourceCurrency(
  items: SourceItem[],
  feeds: ReadonlyMap<string, { kind: string; lastReceivedAt: string | null }>,
): SourceCurrency[] {
  const out = new Map<string, SourceCurrency>();
  for (const i of items) {
    const s = out.get(i.sourceSystem);
    if (s) {
      if (i.received && (!s.lastReceivedForPerson || i.received > s.lastReceivedForPerson))
        s.lastReceivedForPerson = i.received;
      continue;
    }
    const feed = feeds.get(i.sourceSystem);
    const last = feed?.lastReceivedAt ? new Date(feed.lastReceivedAt).toISOString() : undefined;
    out.set(i.sourceSystem, {
      sourceSystem: i.sourceSystem,
      sourceOrg: i.sourceOrg,
      sourceOrgName: i.sourceOrgName,
      mode: feed?.kind === 'batch' ? 'batch' : 'live',
      ...(last ? { lastReceived: last } : {}),
      ...(i.received ? { lastReceivedForPerson: i.received } : {}),
    });
  }
  return [...out.values()].sort((a, b) => a.sourceOrgName.localeCompare(b.sourceOrgName));
}

export function currencyExtension(s: SourceCurrency): Extension {
  return {
    url: SOURCE_CURRENCY_EXTENSION,
    extension: [
      { url: 'organisation', valueReference: orgRef(s.sourceOrg, s.sourceOrgName) },
      { url: 'sourceSystem', valueString: s.sourceSystem },
      { url: 'mode', valueCode: s.mode },
      ...(s.lastReceived ? [{ url: 'lastReceived', valueInstant: s.lastReceived }] : []),
      ...(s.lastReceivedForPerson
        ? [{ url: 'lastReceivedForPerson', valueInstant: s.lastReceivedForPerson }]
        : []),
    ],
  };
}
