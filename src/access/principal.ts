/** Who is calling: a member of staff (user) or a source system. */
export interface UserPrincipal {
  kind: 'user';
  userId: string;
  name?: string;
  /**
   * The user's home postcode, when their identity provider releases it (the OpenID Connect
   * `address` claim): only for the audit alert that notices a record sharing the user's surname
   * and address. It is never written to the audit trail.
   */
  postcode?: string;
  /** ODS code of the organisation the user works for in this session */
  org: string;
  /** the selected national RBAC role code (e.g. R8000) or a Sharedcare role (admin, dpo) */
  role: string;
  issuer: string;
  /** the NHS number of the patient in context, when the launch bound the session to one */
  patient?: string;
  /** the SMART app the session was issued to (for the audit trail) */
  client?: string;
}

export interface SourcePrincipal {
  kind: 'source';
  sourceId: string;
  issuer: string;
}

export type Principal = UserPrincipal | SourcePrincipal;

/**
 * Whether the user's session is bound to a patient other than the one with this NHS number (none:
 * a person without one, or no person). The one rule every hop applies: the access decision for each
 * read, the launch, and the token exchange, so a binding survives launch, authorise, token, session.
 */
export function isBoundElsewhere(user: UserPrincipal, nhsNumber: string | null | undefined): boolean {
  return user.patient !== undefined && user.patient !== nhsNumber;
}

/** Sharedcare's own roles for people who run the service rather than care for patients. */
export const ADMIN_ROLE = 'sharedcare-admin';
export const DPO_ROLE = 'sharedcare-dpo';
