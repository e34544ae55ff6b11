/**
 * Stage: audit of identity changes. A source record linked to a person for the first time, and one
 * moved from one person to another (split from the first, linked to the second), are audited in
 * the same transaction; re-sends that change nothing are not.
 */
import type { Queryable } from '../../db/index.ts';
import { recordAuditEvents, type AuditEventInput } from '../../audit/index.ts';
import type { LinkOutcome } from '../../identity/index.ts';
import type { SourceSystem } from '../../region/index.ts';

export function identityEvents(source: SourceSystem, links: LinkOutcome[]): AuditEventInput[] {
  const user = { id: `source:${source.id}`, org: source.org, role: 'source-system' };
  const events: AuditEventInput[] = [];
  for (const l of links) {
    if (l.previousPersonId)
      events.push({
        action: 'identity.split',
        outcome: 'success',
        user,
        personId: l.previousPersonId,
        reasons: [l.reason],
        detail: `a ${source.id} record moved to another person`,
      });
    if (l.created || l.previousPersonId)
      events.push({
        action: 'identity.link',
        outcome: 'success',
        user,
        personId: l.personId,
        reasons: [l.reason],
        detail: `a ${source.id} record linked`,
      });
  }
  return events;
}

/** Identity events held back by the caller (IdentityEvents), to be appended later in the transaction. */
export type IdentityEvents = AuditEventInput[];

export async function auditIdentityChanges(
  tx: Queryable,
  source: SourceSystem,
  links: LinkOutcome[],
): Promise<void> {
  // one round trip for the request's identity events, in order
  await recordAuditEvents(tx, identityEvents(source, links));
}

/** Appends events held back (several messages' of an HL7 v2 batch), in order, in one round trip. */
export async function appendIdentityEvents(tx: Queryable, events: IdentityEvents): Promise<void> {
  await recordAuditEvents(tx, events);
}
