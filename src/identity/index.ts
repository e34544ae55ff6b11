export {
  NHS_NUMBER_SYSTEM,
  formatNhsNumber,
  isValidNhsNumber,
  nhsCheckDigit,
  normaliseNhsNumber,
} from './nhs-number.ts';
export {
  BY_NHS_NUMBER,
  nhsNumberOf,
  type LinkOutcome,
  type PersonLinker,
  type SourcePatient,
} from './link.ts';
export {
  composePatient,
  isRestricted,
  findPersonByNhsNumber,
  getPerson,
  getPersonLinks,
  isPersonId,
  personFragment,
  personLinksFragment,
  SOURCE_RECORD_EXTENSION,
  UNVERIFIED_EXTENSION,
  type Person,
  type PersonLink,
  type SourceLabel,
} from './person.ts';
export { featuresOf, blockingKeys, swappedDate, type MatchFeatures, type BlockingKeys } from './features.ts';
export { scorePair, type MatchDecision, type MatchScore, type TermFrequency } from './score.ts';
export {
  DEFAULT_RULES_FILE,
  loadMatchRules,
  parseMatchRules,
  matchRulesSchema,
  type MatchRules,
  type Comparison,
} from './rules.ts';
export { COMPARATORS } from './comparators.ts';
export { createPersonLinker } from './linker.ts';
export {
  mergeSourceRecords,
  unmergeSourceRecord,
  splitPerson,
  rememberDecisions,
  type ItemMover,
  type RecordMove,
  type SourceRecordRef,
} from './relink.ts';
export {
  decideReview,
  listOpenReviews,
  pendingReviewsFor,
  type ReviewOutcome,
  type ReviewPair,
  type ReviewSide,
  pendingReviewsFragment,
} from './review.ts';
export { backfillMatchKeys, type BackfillReport } from './backfill.ts';
export { trainRules, countNames, type TrainingReport } from './train.ts';
export { trainingRecords, saveTermFrequencies } from './training-store.ts';
export {
  findPersonsByDemographics,
  sourceRecordsByIdentifier,
  type DemographicMatch,
  type DemographicQuery,
  type RecordByIdentifier,
} from './search.ts';
