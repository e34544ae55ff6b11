export { dateRange, parseDateValue, dateMatches, type DateValue, type Range } from './dates.ts';
export {
  includesOf,
  isSearchType,
  MAX_COUNT,
  RESULT_PARAMS,
  searchParamsOf,
  SEARCH_TYPES,
  SORT_KEYS,
  type IncludeDef,
  type SearchParamDef,
} from './definitions.ts';
export { valuesAt } from './elements.ts';
export {
  parseCount,
  parseOffset,
  parseSearch,
  refuse,
  valuesOf,
  type Filter,
  type ParsedSearch,
  type Query,
  type SortKey,
} from './parse.ts';
export { filterMatches, selectPage, storeCodesOf, type Candidate } from './select.ts';
export { parseToken, tokenMatches, type TokenValue } from './tokens.ts';
export { ignoredOutcomeIssues } from './outcome.ts';
