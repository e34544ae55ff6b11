/**
 * Retention: removing what is past its period (`sharedcare retention run`, `POST
 * /admin/retention/run`). decide.ts holds the rules, recognise.ts which items are maternity or
 * mental health, run.ts the batched, audited run; the SQL is the store's (src/store/retention.ts).
 */
export { parseAsOf } from './as-of.ts';
export {
  addYears,
  decidePerson,
  RULES,
  type PersonDecision,
  type PersonFacts,
  type RetentionPeriods,
  type RuleName,
} from './decide.ts';
export { classifyCode, createRecogniser, type CodeClass, type Recogniser } from './recognise.ts';
export { formatRetentionReport, type RetentionReport, type RuleCount } from './report.ts';
export { DEFAULT_BATCH_PERSONS, runRetention, type RetentionActor, type RetentionOptions } from './run.ts';
