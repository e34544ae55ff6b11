/**
 * How one clinical item is linked to others, for the privacy rule that an item linked to a withheld
 * item is withheld too. Two directions matter, and only these:
 *
 * - depends on: the item exists because of, or at, the other one (a result based on a test order,
 *   an observation made at an encounter, a prescription whose reason is a diagnosis). If the other
 *   is withheld, this one would reveal it.
 * - contains: the other one is part of this item (a report's results, a panel's members, the
 *   evidence for a diagnosis). If this one is withheld, its parts would reveal it.
 *
 * The direction matters: a diagnosis recorded at an ordinary consultation must not withhold the
 * whole consultation, and with it every other diagnosis and prescription of that day.
 * Only references to stored clinical items (Type/<uuid>, as ingest rewrites them) count.
 */
import type { Resource } from '@medplum/fhirtypes';

/** Bump when the rules below change: stored links and labels are then derived again. */
export const LINK_RULES_VERSION = 'links-2';

/** Top-level elements whose references point at what this item depends on. */
const DEPENDS_ON = new Set([
  'basedOn',
  'partOf',
  'encounter',
  'context', // DocumentReference.context (encounter, related), MedicationStatement.context
  'reasonReference',
  'derivedFrom',
  'focus',
  'request', // MedicationAdministration.request
  'authorizingPrescription',
  'addresses',
  'diagnosis', // Encounter.diagnosis.condition: the encounter was for it
  'supportingInfo',
  'supportingInformation',
  'replaces',
  'episodeOfCare',
  'appointment',
  'incomingReferral',
]);

/** Top-level elements whose references point at parts of this item. */
const CONTAINS = new Set(['result', 'hasMember', 'evidence', 'activity', 'imagingStudy', 'specimen']);

/** a reference to a stored clinical item (not to the person) */
const ITEM_REF = /^(?!Patient\/)[A-Za-z]+\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export interface ItemLinks {
  dependsOn: string[];
  contains: string[];
  /** every stored item it refers to, anywhere in it (a superset of the two above) */
  refs: string[];
}

function referencesIn(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) {
    for (const n of node) if (n !== null && typeof n === 'object') referencesIn(n, into);
    return;
  }
  const obj = node as Record<string, unknown>;
  if (typeof obj.reference === 'string') {
    const m = ITEM_REF.exec(obj.reference);
    if (m) into.add(m[1]!);
  }
  for (const k in obj) {
    const v = obj[k];
    if (v !== null && typeof v === 'object') referencesIn(v, into);
  }
}

export function itemLinks(resource: Resource): ItemLinks {
  const dependsOn = new Set<string>();
  const contains = new Set<string>();
  const refs = new Set<string>();
  const top = resource as unknown as Record<string, unknown>;
  for (const key in top) {
    const v = top[key];
    if (v === null || typeof v !== 'object' || key === 'meta' || key === 'contained') continue;
    if (DEPENDS_ON.has(key)) referencesIn(v, dependsOn);
    else if (CONTAINS.has(key)) referencesIn(v, contains);
    referencesIn(v, refs);
  }
  return { dependsOn: [...dependsOn].sort(), contains: [...contains].sort(), refs: [...refs].sort() };
}

/**
 * Removes, in place, every reference to one of `hidden` (with its display): an array element that
 * is such a reference goes from the array; a property that holds one is deleted. Used as an item
 * is served, so that a shown item never points at (or names) a withheld one.
 */
export function removeReferences<T>(resource: T, hidden: ReadonlySet<string>): T {
  const isHidden = (v: unknown): boolean => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
    const ref = (v as { reference?: unknown }).reference;
    const m = typeof ref === 'string' ? ITEM_REF.exec(ref) : null;
    return !!m && hidden.has(m[1]!);
  };
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) {
        if (isHidden(node[i])) node.splice(i, 1);
        else if (node[i] !== null && typeof node[i] === 'object') walk(node[i]);
      }
      return;
    }
    const obj = node as Record<string, unknown>;
    for (const k of Object.keys(obj)) {
      const v = obj[k];
      if (isHidden(v)) delete obj[k];
      else if (v !== null && typeof v === 'object') {
        walk(v);
        if (Array.isArray(v) && v.length === 0) delete obj[k];
      }
    }
  };
  walk(resource);
  return resource;
}
