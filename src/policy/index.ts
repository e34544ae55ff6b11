import type { Resource } from '@medplum/fhirtypes';
import type { Database, Queryable } from '../db/index.ts';
import { itemLinks, LINK_RULES_VERSION } from '../fhir/index.ts';
import { relabelItems } from '../store/index.ts';
import { buildClassifier, CLASSIFIER_VERSION, type Classifier } from './classify.ts';
import { withDescendants, type SensitiveCode } from './code-list-formats.ts';
import { importedCodes } from './code-list-store.ts';
import { settleReviews } from './review.ts';
import { codesDigest, loadSensitiveCodeLists, uniqueCodes } from './sensitive-codes.ts';
import { buildTextScreen, loadTermList, type TermList, type TextMatch } from './text-screen.ts';

export { decideRecord, type Reader, type RecordDecision, type RecordNotice } from './decide.ts';
export {
  listObjections,
  objectionsFragment,
  recordObjection,
  withdrawObjection,
  type Objection,
  type ObjectionInput,
  type ObjectionScope,
  type WithdrawalInput,
} from './objections.ts';
export {
  endOverride,
  listOverrides,
  overridesFragment,
  overrideNotice,
  recordOverride,
  OVERRIDE_GROUNDS,
  type Override,
  type OverrideGround,
  type OverrideInput,
} from './overrides.ts';
export { objectionToConsent, SECTION_SYSTEM, type ConsentRedaction } from './consent.ts';
export { getOptOut, setOptOut, type OptOutStatus } from './opt-out.ts';
export { loadSensitiveCodeLists, type CodeListLoad, type SensitiveCode } from './sensitive-codes.ts';
export { buildClassifier, REVIEW_PREFIX, type Classifier } from './classify.ts';
export { canonicalCode, canonicalSystem, isValidSctId, isWellFormedCode } from './code-systems.ts';
export { parseCodeList, type ListDefaults, type ListMeta, type ParsedList } from './code-list-formats.ts';
export type { TextMatch } from './text-screen.ts';
export { readPdfAttachments } from './item-text.ts';
export * from './review.ts';
export * from './code-list-store.ts';

export interface PolicyOptions {
  /** free-text term lists (YAML); none: no text screen */
  termLists?: string[];
  /** the region shows negative screening results ("HIV negative" is not withheld for its words) */
  showNegativeScreening?: boolean;
}

export interface Policy {
  /** stable: always the lists currently in force (imported lists can change while serving) */
  classify: Classifier;
  /** the text screen's findings on an item that no code withholds (the review queue's "why") */
  explain(resource: unknown): TextMatch[];
  /** an organisation whose every item is never shared (so even naming it is withheld) */
  neverSharedOrganisation: (ods: string) => boolean;
  /** version of the lists, term lists and link rules; stored so that a change relabels the store */
  readonly version: string;
  readonly codeCount: number;
  problems: string[];
  /** puts the lists imported into the database (`codes import`) in force beside the configured ones */
  useImported(codes: SensitiveCode[]): void;
}

function mergeTermLists(files: string[]): TermList | undefined {
  if (files.length === 0) return undefined;
  const lists = files.map(loadTermList);
  const categories: TermList['categories'] = {};
  for (const l of lists)
    for (const [cat, c] of Object.entries(l.categories)) {
      const into = categories[cat];
      categories[cat] = into
        ? (Object.fromEntries(
            Object.entries(c).map(([k, v]) => [k, [...(into[k as keyof typeof into] ?? []), ...v]]),
          ) as typeof c)
        : c;
    }
  return { version: lists.map((l) => String(l.version)).join('+'), categories };
}

export function createPolicy(codeListFiles: string[], opts: PolicyOptions = {}): Policy {
  const load = loadSensitiveCodeLists(codeListFiles);
  const terms = mergeTermLists(opts.termLists ?? []);
  const screen = terms
    ? buildTextScreen(terms, { showNegativeScreening: opts.showNegativeScreening ?? false })
    : undefined;
  let current = buildClassifier(load.codes, screen);
  let codes = load.codes;
  let version = `${codesDigest(codes)}.${screen?.version ?? 'no-text'}.${LINK_RULES_VERSION}.${CLASSIFIER_VERSION}`;
  return {
    classify: (c, s, o, r) => current.classify(c, s, o, r),
    explain: (r) => current.explain(r),
    neverSharedOrganisation: (ods) => current.classify([], [], ods).length > 0,
    get version() {
      return version;
    },
    get codeCount() {
      return codes.length;
    },
    problems: load.problems,
    useImported(imported) {
      codes = uniqueCodes(withDescendants([...load.codes, ...imported], load.edges));
      current = buildClassifier(codes, screen);
      version = `${codesDigest(codes)}.${screen?.version ?? 'no-text'}.${LINK_RULES_VERSION}.${CLASSIFIER_VERSION}`;
    },
  };
}

/**
 * Relabels every stored item under the lists now in force (review decisions applied again
 * afterwards) and records the version, in the caller's transaction.
 */
export async function relabelStore(tx: Queryable, policy: Policy): Promise<number> {
  await tx.query(`SELECT pg_advisory_xact_lock(1200012)`);
  const relabelled = await relabelItems(
    tx,
    policy.classify,
    (body) => itemLinks(JSON.parse(body) as Resource),
    (t) => settleReviews(t, policy.explain, 'all'),
  );
  await tx.query(
    `INSERT INTO policy_state (key, value) VALUES ('sensitive-codes-version', $1)
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
    [policy.version],
  );
  return relabelled;
}

/**
 * Picks up lists another process imported (another `serve --workers` worker, or the CLI on
 * PostgreSQL): one small read of the stored version; the imported lists are read again only when it
 * differs from the version in force here.
 */
export async function refreshImported(q: Queryable, policy: Policy): Promise<void> {
  const { rows } = await q.query<{ value: string }>(
    `SELECT value FROM policy_state WHERE key = 'sensitive-codes-version'`,
  );
  if (rows[0] && rows[0].value !== policy.version) policy.useImported(await importedCodes(q));
}

/**
 * Puts the imported lists in force and relabels every stored item if the lists (or term lists, or
 * link rules) changed since they were labelled.
 */
export async function ensureLabelsCurrent(
  db: Database,
  policy: Policy,
): Promise<{ relabelled: number } | undefined> {
  policy.useImported(await importedCodes(db));
  const { rows } = await db.query<{ value: string }>(
    `SELECT value FROM policy_state WHERE key = 'sensitive-codes-version'`,
  );
  if (rows[0]?.value === policy.version) return undefined;
  return db.transaction(async (tx) => ({ relabelled: await relabelStore(tx, policy) }));
}
