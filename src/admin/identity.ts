/**
 * Identity administration, shared by the admin API and the CLI: the review queue (read, link,
 * keep apart) and splitting a wrongly linked person. Every change moves the items with their
 * source records and writes its audit events in the same transaction; reading the queue, which
 * shows demographics, is audited too.
 */
import { recordAuditEventsOrRefuse, type AuditEventInput } from '../audit/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import {
  decideReview,
  listOpenReviews,
  splitPerson,
  type ItemMover,
  type RecordMove,
  type SourceRecordRef,
} from '../identity/index.ts';

export interface IdentityActor {
  userId: string;
  org: string;
  role: string;
}

/** identity.split from the person a record left, identity.link to the one it joined. */
export function moveEvents(
  moves: RecordMove[],
  user: AuditEventInput['user'],
  why: string,
): AuditEventInput[] {
  return moves.flatMap((m): AuditEventInput[] => [
    {
      action: 'identity.split',
      outcome: 'success',
      user,
      personId: m.fromPersonId,
      reasons: [why],
      detail: `a ${m.sourceId} record moved to another person`,
    },
    {
      action: 'identity.link',
      outcome: 'success',
      user,
      personId: m.toPersonId,
      reasons: [why],
      detail: `a ${m.sourceId} record linked`,
    },
  ]);
}

/** `moveItems` moves a source record's items with it (src/ingest's itemMover, wired by the caller). */
export function identityAdmin(db: Database, moveItems: ItemMover, clock: () => Date = () => new Date()) {
  const user = (a: IdentityActor) => ({ id: a.userId, org: a.org, role: a.role });
  const audited = <T>(fn: (tx: Queryable) => Promise<{ value: T; events: AuditEventInput[] }>) =>
    db.transaction(async (tx) => {
      const { value, events } = await fn(tx);
      await recordAuditEventsOrRefuse(tx, events);
      return value;
    });
  return {
    listReview: (actor: IdentityActor, limit = 50) =>
      audited(async (tx) => ({
        value: await listOpenReviews(tx, limit),
        events: [
          { action: 'identity.review', outcome: 'success', user: user(actor), detail: 'review queue read' },
        ],
      })),
    decideReview: (actor: IdentityActor, id: string, decision: 'link' | 'apart') =>
      audited(async (tx) => {
        const out = await decideReview(
          tx,
          id,
          decision,
          { id: actor.userId, org: actor.org },
          clock(),
          moveItems,
        );
        const decided: AuditEventInput = {
          action: 'identity.review',
          outcome: 'success',
          user: user(actor),
          personId: out.pair.candidate.personId ?? undefined,
          reasons: [decision === 'link' ? 'review-link' : 'review-apart'],
          detail:
            decision === 'link'
              ? 'review: the two source records linked'
              : 'review: the two source records kept apart',
        };
        return { value: out, events: [decided, ...moveEvents(out.moves, user(actor), 'review-link')] };
      }),
    split: (actor: IdentityActor, personId: string, records: SourceRecordRef[]) =>
      audited(async (tx) => {
        const out = await splitPerson(tx, personId, records, actor.userId, moveItems, clock());
        return { value: out, events: moveEvents(out.moves, user(actor), 'admin-split') };
      }),
  };
}

export type IdentityAdmin = ReturnType<typeof identityAdmin>;
