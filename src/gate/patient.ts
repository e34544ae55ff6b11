import type { Patient } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import {
  composePatient,
  getPersonLinks,
  isRestricted,
  NHS_NUMBER_SYSTEM,
  type Person,
  type PersonLink,
  type SourceLabel,
} from '../identity/index.ts';
import type { RegionSnapshot } from '../region/index.ts';

/** Sharedcare's own extensions on the Patient (source records, identity unverified) */
const SHARED_CARE_EXTENSIONS = 'https://sharedcare.dev/';

const KIND_RANK: Record<string, number> = { gp: 0, acute: 1, 'community-mental-health': 2 };

function sourceLabels(region: RegionSnapshot): Map<string, SourceLabel> {
  return new Map(
    [...region.sources.values()].map((s) => [
      s.id,
      { org: s.org, orgName: s.orgName, rank: KIND_RANK[region.organisations.get(s.org)?.kind ?? ''] ?? 5 },
    ]),
  );
}

/** Only what identifies the record (the NHS number the reader already has): no demographics. */
export function minimalPatient(person: Person): Patient {
  return {
    resourceType: 'Patient',
    id: person.id,
    ...(person.nhsNumber ? { identifier: [{ system: NHS_NUMBER_SYSTEM, value: person.nhsNumber }] } : {}),
  };
}

/**
 * The combined Patient (demographics from the preferred source, identifiers from all), leaving out
 * the records of organisations whose every item is never shared: that such an organisation knows
 * the person (a sexual-health service, say) is itself what must not be shared. The records of an
 * organisation whose data the person objected to sharing (upheld for this reader) are left out too:
 * its address, telephone and identifiers are its data as much as its items are.
 */
export async function combinedPatient(
  tx: Queryable,
  g: {
    person: Person;
    region: RegionSnapshot;
    links?: PersonLink[] | undefined;
    policy?: { filter: { excludeOrgs: string[] } };
  },
  neverShared: (ods: string) => boolean = () => false,
): Promise<Patient> {
  const { person, region } = g;
  const labels = sourceLabels(region);
  // read with the decision (governed.ts), or here
  const links = g.links ?? (await getPersonLinks(tx, person.id));
  const objected = new Set(g.policy?.filter.excludeOrgs);
  const shown = links.filter((l) => {
    const org = labels.get(l.sourceId)?.org ?? '';
    return !neverShared(org) && !objected.has(org);
  });
  const restrictedElsewhere = shown.length < links.length && links.some((l) => isRestricted(l.demographics));
  const patient = composePatient(person, shown, labels, restrictedElsewhere);
  // a contact or an extension the source sent may name a never-shared organisation (a next of kin
  // "c/o" a sexual-health service, a reference to it): left out, as any item naming it is
  const sent = (e: { url: string }) => !e.url.startsWith(SHARED_CARE_EXTENSIONS);
  if (patient.contact || patient.extension?.some(sent)) {
    const unsharedNames = [...region.organisations.values()]
      .filter((o) => o.name && neverShared(o.ods))
      .map((o) => o.name.toLowerCase());
    const names = (v: unknown) => namesNeverShared(v, neverShared, unsharedNames);
    const contact = patient.contact?.filter((c) => !names(c));
    if (contact?.length) patient.contact = contact;
    else delete patient.contact;
    const extension = patient.extension?.filter((e) => !sent(e) || !names(e));
    if (extension?.length) patient.extension = extension;
    else delete patient.extension;
  }
  return patient;
}

/** Whether any string within `v` is a never-shared organisation's ODS code (alone, or ending a reference) or name. */
function namesNeverShared(v: unknown, neverShared: (ods: string) => boolean, names: string[]): boolean {
  if (typeof v === 'string') {
    // any word of the text may be an ODS code ("c/o LAB01, Riverside", "lab01 ", "Organization/LAB01")
    const words = v.toUpperCase().split(/[^A-Z0-9]+/);
    if (words.some((w) => w.length >= 3 && w.length <= 8 && neverShared(w))) return true;
    const text = v.toLowerCase();
    return names.some((n) => text.includes(n));
  }
  if (Array.isArray(v)) return v.some((x) => namesNeverShared(x, neverShared, names));
  if (v && typeof v === 'object')
    return Object.values(v).some((x) => namesNeverShared(x, neverShared, names));
  return false;
}
