/**
 * The access decision: may this user see this person's record, on what basis, and which
 * sections? Pure: the caller looks up the facts. Reviewed as a table in docs/access-decisions.md
 * and tested by table and by property (access/decide.test.ts).
 *
 * Order: the organisation must take part and view; the role must be one that sees records; the
 * session must not be bound to another patient; then a legitimate relationship (registered GP
 * practice, or a current or recent encounter, episode, social-care case, appointment, referral or
 * care team at the user's organisation), else an unexpired break-glass grant, else refusal, which
 * says that break glass is possible.
 */
import type { RelationshipKind, RelationshipSummary } from './relationships.ts';
import { accessKindOf, SECTIONS_BY_KIND, type AccessKind } from './roles.ts';
import { isBoundElsewhere, type UserPrincipal } from './principal.ts';

export interface OrganisationFacts {
  ods: string;
  views: boolean;
  contributes: boolean;
}

export interface AccessRules {
  roles?: Record<string, AccessKind>;
  /** a closed episode, encounter, appointment or referral counts as a relationship for this long */
  recentDays: number;
}

export const DEFAULT_ACCESS_RULES: AccessRules = { recentDays: 365 };

export type RefusalCode =
  | 'org-unknown'
  | 'org-not-viewing'
  | 'role-unknown'
  | 'role-not-clinical'
  | 'other-patient-in-context'
  | 'no-relationship';

export type AccessDecision =
  | {
      allowed: true;
      basis: RelationshipKind | 'break-glass';
      kind: AccessKind;
      sections: readonly string[];
      breakGlass: boolean;
      /** when access by break glass ends */
      breakGlassUntil?: string;
    }
  | { allowed: false; code: RefusalCode; reason: string; breakGlassPossible: boolean };

export interface AccessFacts {
  org: OrganisationFacts | undefined;
  /** NHS number of the person asked for (to check a session bound to one patient) */
  personNhsNumber: string | null;
  relationships: RelationshipSummary[];
  /** an unexpired break-glass grant for this user and person */
  breakGlass: { expiresAt: string } | undefined;
  now: Date;
}

/** Strongest first: the basis named in the audit is the best one that applies. */
const BASIS_ORDER: RelationshipKind[] = [
  'registered-gp',
  'care-team',
  'social-care-case',
  'episode',
  'encounter',
  'appointment',
  'referral',
];

export function decideRecordAccess(
  user: UserPrincipal,
  facts: AccessFacts,
  rules: AccessRules = DEFAULT_ACCESS_RULES,
): AccessDecision {
  const refuse = (code: RefusalCode, reason: string, breakGlassPossible = false): AccessDecision => ({
    allowed: false,
    code,
    reason,
    breakGlassPossible,
  });
  if (!facts.org)
    return refuse('org-unknown', `organisation ${user.org} does not take part in this shared care record`);
  if (!facts.org.views)
    return refuse(
      'org-not-viewing',
      `organisation ${user.org} contributes data but does not view the shared care record`,
    );
  const kind = accessKindOf(user.role, rules.roles);
  if (!kind) return refuse('role-unknown', `role ${user.role} has no access to the shared care record`);
  if (kind === 'dpo' || kind === 'admin')
    return refuse('role-not-clinical', `the ${user.role} role does not see records`);
  if (isBoundElsewhere(user, facts.personNhsNumber)) {
    return refuse(
      'other-patient-in-context',
      'this session was opened for another patient: open this record from your clinical system',
    );
  }
  const sections = SECTIONS_BY_KIND[kind];
  const horizon = facts.now.getTime() - rules.recentDays * 86_400_000;
  const current = (r: RelationshipSummary) =>
    r.kind === 'registered-gp' || r.open || (r.lastAt !== null && new Date(r.lastAt).getTime() >= horizon);
  const basis = BASIS_ORDER.find((k) => facts.relationships.some((r) => r.kind === k && current(r)));
  if (basis) return { allowed: true, basis, kind, sections, breakGlass: false };
  if (facts.breakGlass && new Date(facts.breakGlass.expiresAt).getTime() > facts.now.getTime()) {
    return {
      allowed: true,
      basis: 'break-glass',
      kind,
      sections,
      breakGlass: true,
      breakGlassUntil: facts.breakGlass.expiresAt,
    };
  }
  return refuse(
    'no-relationship',
    `no legitimate relationship: this person is not registered with, or currently or recently cared for by, ${user.org}. ` +
      'In an emergency you may break the glass, giving a reason; the access is time-limited and reviewed.',
    true,
  );
}
