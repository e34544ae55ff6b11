/**
 * Break glass: access without a legitimate relationship, for a stated reason, for a limited time.
 * Every grant is audited with a flag and listed for the data protection officer's review.
 */
import { randomUUID } from 'node:crypto';
import { readOne, type Fragment, type Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import type { UserPrincipal } from './principal.ts';

export const BREAK_GLASS_REASONS = {
  'emergency-care': 'Emergency care: the person needs care now',
  'new-referral': 'A referral or admission not yet recorded',
  safeguarding: 'Safeguarding concern',
} as const;
export type BreakGlassReason = keyof typeof BREAK_GLASS_REASONS;

export interface BreakGlassGrant {
  id: string;
  personId: string;
  userId: string;
  userOrg: string;
  reason: BreakGlassReason;
  note: string | null;
  grantedAt: string;
  expiresAt: string;
}

export async function grantBreakGlass(
  tx: Queryable,
  input: {
    personId: string;
    user: UserPrincipal;
    reason: string;
    note?: string | undefined;
    minutes: number;
    /** when it is granted (default: now) */
    now?: Date;
  },
): Promise<BreakGlassGrant> {
  if (!Object.hasOwn(BREAK_GLASS_REASONS, input.reason)) {
    throw new SharedcareError(
      'invalid-request',
      `reason must be one of: ${Object.keys(BREAK_GLASS_REASONS).join(', ')}`,
      [
        {
          message: `reason must be one of: ${Object.keys(BREAK_GLASS_REASONS).join(', ')}`,
          expression: 'reason',
        },
      ],
    );
  }
  if (input.note !== undefined && input.note.length > 2000) {
    throw new SharedcareError('invalid-request', 'the note is longer than 2,000 characters', [
      { message: 'too long', expression: 'note' },
    ]);
  }
  const grantedAt = input.now ?? new Date();
  const grant: BreakGlassGrant = {
    id: randomUUID(),
    personId: input.personId,
    userId: input.user.userId,
    userOrg: input.user.org,
    reason: input.reason as BreakGlassReason,
    note: input.note ?? null,
    grantedAt: grantedAt.toISOString(),
    expiresAt: new Date(grantedAt.getTime() + input.minutes * 60_000).toISOString(),
  };
  await tx.query(
    `INSERT INTO break_glass (id, person_id, user_id, user_org, user_role, reason, note, granted_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      grant.id,
      grant.personId,
      grant.userId,
      grant.userOrg,
      input.user.role,
      grant.reason,
      grant.note,
      grant.grantedAt,
      grant.expiresAt,
    ],
  );
  return grant;
}

/** The user's unexpired grant for this person, if any (same organisation only; a fragment). */
export function activeBreakGlassFragment(
  user: UserPrincipal,
  now: Date,
): Fragment<{ expiresAt: string } | undefined> {
  return {
    sql: (param) =>
      `SELECT to_json(max(expires_at)) FROM break_glass
       WHERE person_id = $1 AND user_id = ${param(user.userId)} AND user_org = ${param(user.org)}
         AND expires_at > ${param(now.toISOString())}::timestamptz`,
    decode: (v) => (v ? { expiresAt: new Date(v as string).toISOString() } : undefined),
  };
}

/** The user's unexpired grant for this person, if any (same organisation only). */
export async function activeBreakGlass(
  q: Queryable,
  personId: string,
  user: UserPrincipal,
  now: Date,
): Promise<{ expiresAt: string } | undefined> {
  return readOne(q, personId, activeBreakGlassFragment(user, now));
}
