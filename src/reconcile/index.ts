/** Reconciliation across sources: rules as data, a pure grouping, and its FHIR form. */
export {
  CONFLICT_FIELDS,
  MATCH_FIELDS,
  matchValues,
  conflictValue,
  normaliseText,
  wordingOf,
  type SourceItem,
} from './fields.ts';
export {
  DEFAULT_RECONCILE_RULES_FILE,
  loadReconcileRules,
  parseReconcileRules,
  type ReconcileRule,
  type ReconcileRules,
} from './rules.ts';
export {
  conflictClass,
  reconcile,
  type Conflict,
  type ConflictPosition,
  type Mention,
  type ReconciledGroup,
} from './reconcile.ts';
export {
  CONFLICT_EXTENSION,
  currencyExtension,
  describeConflicts,
  groupList,
  provenanceFor,
  RECONCILIATION_SYSTEM,
  SOURCE_CURRENCY_EXTENSION,
  sourceCurrency,
  sourceItemOf,
  type SourceCurrency,
} from './fhir-view.ts';
