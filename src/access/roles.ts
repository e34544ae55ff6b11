/**
 * What each role may see. National RBAC role codes (NHS Care Identity Service) map to a kind of
 * access; each kind names the sections of the record it sees. This is configuration: a region
 * replaces or extends the table (`roles` in the config file); these are the defaults.
 */

export type AccessKind = 'clinical' | 'social-care' | 'clerical' | 'dpo' | 'admin';

/** Every section of the record (see src/fhir resource types). */
export const ALL_SECTIONS = [
  'problems',
  'procedures',
  'medications',
  'allergies',
  'immunisations',
  'results',
  'encounters',
  'appointments',
  'referrals',
  'documents',
  'care-plans',
  'alerts',
] as const;

export const SECTIONS_BY_KIND: Record<AccessKind, readonly string[]> = {
  clinical: ALL_SECTIONS,
  // Social care sees its own kind of record and an agreed health subset: what keeps a person safe
  // at home (allergies, current medications, alerts) and who is involved (encounters, appointments).
  'social-care': [
    'care-plans',
    'encounters',
    'appointments',
    'allergies',
    'medications',
    'alerts',
    'referrals',
  ],
  clerical: ['appointments'],
  dpo: [],
  admin: [],
};

export const DEFAULT_ROLES: Record<string, AccessKind> = {
  R8000: 'clinical', // Clinical Practitioner Access Role
  R8001: 'clinical', // Nurse Access Role
  R8002: 'clinical', // Nurse Manager Access Role
  R8003: 'clinical', // Health Professional Access Role
  R8004: 'clinical', // Healthcare Student Access Role
  R0260: 'clinical', // General Medical Practitioner
  R1981: 'clinical', // Psychiatrist
  R0243: 'social-care', // Other Community Health Service - Social Care Worker
  'social-worker': 'social-care', // local role for council staff without a national code
  R8006: 'clerical', // Medical Secretary Access Role
  R8008: 'clerical', // Admin/Clinical Support Access Role
  R8009: 'clerical', // Receptionist Access Role
  R8010: 'clerical', // Clerical Access Role
  R0001: 'dpo', // Privacy Officer
  'sharedcare-dpo': 'dpo',
  'sharedcare-admin': 'admin',
};

/** What a clinician reads in the viewer's header for each role code (NHS CIS role names). */
export const ROLE_NAMES: Record<string, string> = {
  R8000: 'Clinical Practitioner',
  R8001: 'Nurse',
  R8002: 'Nurse Manager',
  R8003: 'Health Professional',
  R8004: 'Healthcare Student',
  R0260: 'General Medical Practitioner',
  R1981: 'Psychiatrist',
  R0243: 'Social Care Worker',
  'social-worker': 'Social Worker',
  R8006: 'Medical Secretary',
  R8008: 'Admin/Clinical Support',
  R8009: 'Receptionist',
  R8010: 'Clerical',
  R0001: 'Privacy Officer',
  'sharedcare-dpo': 'Data Protection Officer',
  'sharedcare-admin': 'Administrator',
};

/** What a role may see: its kind of access and the sections of the record (none for unknown roles). */
export function roleAccess(
  role: string,
  roles: Record<string, AccessKind> = DEFAULT_ROLES,
): { kind: AccessKind | undefined; name: string; sections: readonly string[] } {
  const kind = accessKindOf(role, roles);
  return {
    kind,
    name: Object.hasOwn(ROLE_NAMES, role) ? ROLE_NAMES[role]! : role,
    sections: kind ? SECTIONS_BY_KIND[kind] : [],
  };
}

export function accessKindOf(
  role: string,
  roles: Record<string, AccessKind> = DEFAULT_ROLES,
): AccessKind | undefined {
  return Object.hasOwn(roles, role) ? roles[role] : undefined;
}
