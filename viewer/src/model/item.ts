/** One clinical item as the viewer shows it: what, value, when, status, and where it came from. */
import type { Resource } from '@medplum/fhirtypes';
import { toInstant } from './format.ts';
import { describe } from './describe.ts';
import { provenanceOf, type Provenance } from './provenance.ts';

export interface NumericValue {
  /** the measured thing (the test, or a component such as "Systolic blood pressure") */
  name: string;
  value: number;
  unit: string;
  low?: number;
  high?: number;
}

export interface Description {
  title: string;
  detail?: string;
  /** a result's value as text, e.g. "48 mmol/mol" or "160/91 mm[Hg]" */
  value?: string;
  numeric?: NumericValue[];
  abnormal?: boolean;
  /** when it happened (FHIR date or dateTime) */
  date?: string;
  status?: string;
  /** what makes two items "the same thing" (concept key) */
  key: string;
  /** a finer kind: Admission, Pathology, Repeat medication… */
  kind?: string;
  /** ids of items this one groups (a report's results) */
  children?: string[];
}

/** The server's reconciliation of an item (src/reconcile): the group it is one of, as reported. */
export interface Reconciled {
  /** the group's id (its List's id) */
  id: string;
  /** every item of the group, this one included */
  members: Item[];
  /** how the sources disagree, in the server's words; undefined: they agree */
  conflict?: string;
}

export interface Item extends Description {
  id: string;
  type: string;
  resource: Resource;
  at?: number;
  status: string;
  detail: string;
  prov: Provenance;
  /** set when the server found other sources' items to be the same thing */
  reconciled?: Reconciled;
}

export function toItem(resource: Resource): Item {
  const d = describe(resource);
  const at = toInstant(d.date);
  return {
    ...d,
    id: resource.id ?? '',
    type: resource.resourceType,
    resource,
    detail: d.detail ?? '',
    status: d.status ?? '',
    ...(at !== undefined ? { at } : {}),
    prov: provenanceOf(resource),
  };
}

/** Newest first; undated items last. */
export function byDateDesc(a: { at?: number }, b: { at?: number }): number {
  return (b.at ?? -Infinity) - (a.at ?? -Infinity);
}
