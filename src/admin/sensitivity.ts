/**
 * The never-shared lists and the review queue, for administrators (the information-governance
 * team), shared by the admin API and the CLI. Importing a list relabels the store in the same
 * transaction and puts the list in force for intake at once; a review decision changes the item's
 * labels at once. Both are audited; the audit event never names a category.
 */
import { recordAuditEvent, recordAuditEventsOrRefuse } from '../audit/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import { SharedcareError } from '../errors/index.ts';
import {
  canonicalCode,
  canonicalSystem,
  codesOfList,
  decideReview,
  importedCodes,
  isWellFormedCode,
  listCodeLists,
  listReviews,
  relabelStore,
  removeCodeList,
  storeCodeList,
  type CodeListImport,
  type Policy,
  type ReviewDecision,
  type ReviewStatus,
} from '../policy/index.ts';
import type { Actor } from './index.ts';

export interface Decider {
  /** who decided (a person in the IG team), when not the caller */
  by?: string | undefined;
  org?: string | undefined;
}

/** Every code checked again here: the API is an edge too. Nothing is stored if any is wrong. */
function checkedCodes(codes: CodeListImport['codes']): CodeListImport['codes'] {
  const problems: { message: string; expression: string }[] = [];
  const out = codes.map((c, i) => {
    const system = canonicalSystem(c.system);
    const code = system ? canonicalCode(system, c.code) : c.code;
    if (!system)
      problems.push({ message: `unknown code system "${c.system}"`, expression: `codes[${i}].system` });
    else if (!isWellFormedCode(system, code))
      problems.push({
        message: `code "${c.code}" is not a valid ${system} code`,
        expression: `codes[${i}].code`,
      });
    return { ...c, system: system ?? c.system, code };
  });
  if (problems.length > 0)
    throw new SharedcareError(
      'invalid-request',
      'the list has invalid codes; nothing was stored',
      problems.slice(0, 100),
    );
  return out;
}

export function sensitivityService(db: Database, policy: Policy, now: () => Date = () => new Date()) {
  const user = (a: Actor) => ({ id: a.userId, org: a.org, role: a.role });
  /**
   * A change of the lists, then the stored lists put in force, the store relabelled and the change
   * audited, in one transaction; if it fails, the lists in force are the stored ones again.
   */
  const changeLists = async <T>(
    actor: Actor,
    change: (tx: Queryable) => Promise<T>,
    detail: (relabelled: number) => string,
  ): Promise<T & { relabelled: number }> => {
    try {
      return await db.transaction(async (tx) => {
        const value = await change(tx);
        policy.useImported(await importedCodes(tx));
        const relabelled = await relabelStore(tx, policy);
        await recordAuditEvent(tx, {
          action: 'codes.import',
          outcome: 'success',
          user: user(actor),
          detail: detail(relabelled),
        });
        return { ...value, relabelled };
      });
    } catch (err) {
      policy.useImported(await importedCodes(db));
      throw err;
    }
  };
  return {
    /**
     * The queue names people and the words that flagged their items: reading it is audited, one
     * event per person listed (their access report shows it), before the list leaves.
     */
    listReviews: (actor: Actor, status: ReviewStatus | 'all' = 'pending') =>
      db.transaction(async (tx) => {
        const entries = await listReviews(tx, status);
        const byPerson = new Map<string, string[]>();
        for (const e of entries) byPerson.set(e.personId, [...(byPerson.get(e.personId) ?? []), e.itemId]);
        const read = {
          action: 'sensitivity.review' as const,
          outcome: 'success' as const,
          user: user(actor),
        };
        const detail = `review queue read (${status})`;
        await recordAuditEventsOrRefuse(
          tx,
          byPerson.size === 0
            ? [{ ...read, detail }]
            : [...byPerson].map(([personId, itemIds]) => ({
                ...read,
                personId,
                returnedIds: itemIds,
                detail,
              })),
        );
        return entries;
      }),

    decide: (actor: Actor, itemId: string, decision: ReviewDecision, who: Decider = {}) =>
      db.transaction(async (tx) => {
        const by = { user: who.by ?? actor.userId, org: who.org ?? actor.org };
        const done = await decideReview(tx, itemId, decision, by, now());
        if (!done) throw new SharedcareError('not-found', 'no such item in the review queue');
        await recordAuditEvent(tx, {
          action: 'sensitivity.review',
          outcome: 'success',
          user: user(actor),
          personId: done.personId,
          reasons: [`review-${done.status}`],
          detail: `item ${itemId} ${done.status} by ${by.user} (${by.org})`,
        });
        return { itemId, status: done.status, decidedBy: by.user, decidedOrg: by.org };
      }),

    listCodeLists: () => listCodeLists(db),
    codesOfList: (name: string) => codesOfList(db, name),

    /** Stores the list (replacing one of that name), puts it in force, relabels the store. */
    importCodeList: (actor: Actor, input: CodeListImport) => {
      const list = { ...input, codes: checkedCodes(input.codes) };
      return changeLists(
        actor,
        (tx) => storeCodeList(tx, list, actor.userId, now()),
        (n) => `code list ${list.name} (${list.codes.length} codes) imported; ${n} items relabelled`,
      );
    },

    removeCodeList: (actor: Actor, name: string) =>
      changeLists(
        actor,
        async (tx) => {
          if (!(await removeCodeList(tx, name)))
            throw new SharedcareError('not-found', `no code list ${name}`);
          return { name, removed: true };
        },
        (n) => `code list ${name} removed; ${n} items relabelled`,
      ),
  };
}

export type SensitivityService = ReturnType<typeof sensitivityService>;
