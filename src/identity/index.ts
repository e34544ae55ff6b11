export {
  NHS_NUMBER_SYSTEM,
  formatNhsNumber,
  isValidNhsNumber,
  nhsCheckDigit,
  normaliseNhsNumber,
} from './nhs-number.ts';
export {
  nhsNumberLinker,
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
  SOURCE_RECORD_EXTENSION,
  UNVERIFIED_EXTENSION,
  type Person,
  type PersonLink,
  type SourceLabel,
} from './person.ts';
