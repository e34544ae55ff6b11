/**
 * Which source of a RegionSpec plays which part in a person's story, worked out from organisation
 * kinds: GP practices, the acute trust, the private pathology lab, community and mental health,
 * social care, and out-of-hours/111.
 */
import { hashString } from './random.ts';
import type { RegionOrganisation, RegionSource, RegionSpec } from './region-spec.ts';

export interface SourceRole {
  source: RegionSource;
  org: RegionOrganisation;
  /** Seeds this source's own random stream. */
  hash: number;
}

export interface SourceRoles {
  gp: SourceRole[];
  acute?: SourceRole;
  lab?: SourceRole;
  community?: SourceRole;
  socialCare?: SourceRole;
  outOfHours?: SourceRole;
}

const cache = new WeakMap<RegionSpec, SourceRoles>();

export function classifySources(spec: RegionSpec): SourceRoles {
  const cached = cache.get(spec);
  if (cached) return cached;
  const roles: SourceRoles = { gp: [] };
  for (const source of spec.sources) {
    const org = spec.organisations.find((o) => o.ods === source.org);
    if (!org || !org.contributes) continue;
    const role: SourceRole = { source, org, hash: hashString(source.id) };
    switch (org.kind) {
      case 'gp':
        roles.gp.push(role);
        break;
      case 'acute':
        roles.acute ??= role;
        break;
      case 'pathology':
        roles.lab ??= role;
        break;
      case 'community-mental-health':
        roles.community ??= role;
        break;
      case 'social-care':
        roles.socialCare ??= role;
        break;
      case 'out-of-hours':
        roles.outOfHours ??= role;
        break;
    }
  }
  if (roles.gp.length === 0) throw new Error('the region needs at least one contributing GP practice');
  cache.set(spec, roles);
  return roles;
}

/**
 * A local number for person `index`: an affine permutation of 0..10^digits-1 (the multiplier is
 * odd and not a multiple of 5, so coprime with 10^digits), hence unique per index but not sequential.
 */
export function scrambleDigits(index: number, digits: number, salt: number): string {
  const modulus = 10 ** digits;
  let multiplier = (salt % 499_999) * 2 + 1;
  if (multiplier % 5 === 0) multiplier += 2;
  const offset = salt % modulus;
  return String(((((index % modulus) * (multiplier % modulus)) % modulus) + offset) % modulus).padStart(
    digits,
    '0',
  );
}
