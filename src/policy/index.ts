import type { Resource } from '@medplum/fhirtypes';
import type { Database } from '../db/index.ts';
import { itemLinks, LINK_RULES_VERSION } from '../fhir/index.ts';
import { relabelItems } from '../store/index.ts';
import { buildClassifier, type Classifier } from './classify.ts';
import { loadSensitiveCodeLists } from './sensitive-codes.ts';

export { decideRecord, type Reader, type RecordDecision, type RecordNotice } from './decide.ts';
export {
  listObjections,
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
export { buildClassifier, type Classifier } from './classify.ts';
export { isValidSctId } from './code-systems.ts';

export interface Policy {
  classify: Classifier;
  /** an organisation whose every item is never shared (so even naming it is withheld) */
  neverSharedOrganisation: (ods: string) => boolean;
  /** version of the code lists; stored so that a change relabels the store */
  version: string;
  codeCount: number;
  problems: string[];
}

export function createPolicy(codeListFiles: string[]): Policy {
  const load = loadSensitiveCodeLists(codeListFiles);
  const classify = buildClassifier(load.codes);
  return {
    classify,
    neverSharedOrganisation: (ods) => classify([], [], ods).length > 0,
    version: `${load.version}.${LINK_RULES_VERSION}`,
    codeCount: load.codes.length,
    problems: load.problems,
  };
}

/** Relabels every stored item if the code lists changed since they were labelled. */
export async function ensureLabelsCurrent(
  db: Database,
  policy: Policy,
): Promise<{ relabelled: number } | undefined> {
  const { rows } = await db.query<{ value: string }>(
    `SELECT value FROM policy_state WHERE key = 'sensitive-codes-version'`,
  );
  if (rows[0]?.value === policy.version) return undefined;
  return db.transaction(async (tx) => {
    const relabelled = await relabelItems(tx, policy.classify, (body) =>
      itemLinks(JSON.parse(body) as Resource),
    );
    await tx.query(
      `INSERT INTO policy_state (key, value) VALUES ('sensitive-codes-version', $1)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [policy.version],
    );
    return { relabelled };
  });
}
