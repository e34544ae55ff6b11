/**
 * GET /fhir/Patient/{id}/$reconciled: the record open of $everything, reconciled across sources.
 * The same governed read (access → policy → the store read with the policy's filter in SQL →
 * audit), so only items this reader may see are reconciled: a withheld item can be neither a
 * source of a group nor one side of a conflict. The answer holds every item as its source sent it
 * (the raw per-source items), a List per group of items that are one thing (src/reconcile), a
 * Provenance per item, and in Bundle.meta how current each contributing source is.
 */
import type { OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.ts';
import { pendingReviewsFor } from '../identity/index.ts';
import {
  currencyExtension,
  groupList,
  loadReconcileRules,
  provenanceFor,
  reconcile,
  sourceCurrency,
  sourceItemOf,
  type ReconcileRules,
} from '../reconcile/index.ts';
import { listSources } from '../region/index.ts';
import type { ItemQuery, ItemRow } from '../store/index.ts';
import type { Granted, ReadContext, createGovernor } from './governed.ts';

type Governed = ReturnType<typeof createGovernor>['governed'];

export interface ReconciledDeps {
  governed: Governed;
  fhirBaseUrl: string;
  clock: () => Date;
  shownItems(tx: Queryable, g: Granted, query?: ItemQuery): Promise<{ rows: ItemRow[]; withheld: string[] }>;
  patientOf(tx: Queryable, g: Granted): Patient | Promise<Patient>;
  noticesFor(g: Granted, identityPending?: number): OperationOutcome | undefined;
  rules?: ReconcileRules;
}

const entry = (base: string, type: string, id: string, resource: string, mode: 'match' | 'include') =>
  `{"fullUrl":"${base}/${type}/${id}","resource":${resource},"search":{"mode":"${mode}"}}`;

export function reconciledRead(deps: ReconciledDeps) {
  const rules = deps.rules ?? loadReconcileRules();
  const base = deps.fhirBaseUrl;
  return (ctx: ReadContext, personId: string): Promise<string> =>
    deps.governed(
      ctx,
      'record.open',
      'Patient/{id}/$reconciled',
      () => personId,
      async (tx, g) => {
        const { rows, withheld } = await deps.shownItems(tx, g);
        const now = deps.clock().toISOString();
        const items = rows.map((r) => sourceItemOf(JSON.parse(r.body) as never, g.person.id));
        const groups = reconcile(items, rules).filter((x) => x.itemIds.length > 1);
        const feeds = new Map((await listSources(tx)).map((s) => [s.id, s]));
        const currency = sourceCurrency(items, feeds).map(currencyExtension);
        const patient = await deps.patientOf(tx, g);
        const notices = deps.noticesFor(g, g.pendingReviews ?? (await pendingReviewsFor(tx, g.person.id)));
        const parts = [
          entry(base, 'Patient', patient.id!, JSON.stringify(patient), 'include'),
          ...rows.map((r) => entry(base, r.resourceType, r.id, r.body, 'match')),
          ...groups.map((x) =>
            entry(base, 'List', x.id, JSON.stringify(groupList(x, g.person.id, now)), 'include'),
          ),
          ...items.map((i) => {
            const p = provenanceFor(i, now);
            return entry(base, 'Provenance', p.id!, JSON.stringify(p), 'include');
          }),
          ...(notices ? [`{"resource":${JSON.stringify(notices)},"search":{"mode":"outcome"}}`] : []),
        ];
        const meta = JSON.stringify({
          lastUpdated: now,
          ...(currency.length ? { extension: currency } : {}),
        });
        return {
          withheld,
          value: `{"resourceType":"Bundle","type":"searchset","meta":${meta},"total":${rows.length},"entry":[${parts.join(',')}]}`,
          ids: [g.person.id, ...rows.map((r) => r.id)],
        };
      },
      { pendingReviews: true },
    );
}
