/**
 * The access decision, first version: may this user read clinical records at all?
 * Pure: the facts are looked up by the caller. Later versions add roles and relationships.
 */
import type { UserPrincipal } from './principal.ts';
import { ADMIN_ROLE, DPO_ROLE } from './principal.ts';

export interface OrganisationFacts {
  ods: string;
  views: boolean;
  contributes: boolean;
}

export type AccessDecision =
  | { allowed: true; basis: string }
  | { allowed: false; reason: string; code: 'org-unknown' | 'org-not-viewing' | 'role-not-clinical' };

export function decideRecordAccess(user: UserPrincipal, org: OrganisationFacts | undefined): AccessDecision {
  if (!org)
    return {
      allowed: false,
      code: 'org-unknown',
      reason: `organisation ${user.org} does not take part in this shared care record`,
    };
  if (!org.views) {
    return {
      allowed: false,
      code: 'org-not-viewing',
      reason: `organisation ${user.org} contributes data but does not view the shared care record`,
    };
  }
  if (user.role === DPO_ROLE || user.role === ADMIN_ROLE) {
    return {
      allowed: false,
      code: 'role-not-clinical',
      reason: `the ${user.role} role does not see clinical content`,
    };
  }
  return { allowed: true, basis: 'viewing-organisation' };
}
