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
 * the person (a sexual-health service, say) is itself what must not be shared.
 */
export async function combinedPatient(
  tx: Queryable,
  g: { person: Person; region: RegionSnapshot; links?: PersonLink[] | undefined },
  neverShared: (ods: string) => boolean = () => false,
): Promise<Patient> {
  const { person, region } = g;
  const labels = sourceLabels(region);
  // read with the decision (governed.ts), or here
  const links = g.links ?? (await getPersonLinks(tx, person.id));
  const shown = links.filter((l) => !neverShared(labels.get(l.sourceId)?.org ?? ''));
  const restrictedElsewhere = shown.length < links.length && links.some((l) => isRestricted(l.demographics));
  return composePatient(person, shown, labels, restrictedElsewhere);
}
