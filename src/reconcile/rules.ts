/**
 * The reconciliation rules as data (config/reconcile-rules.json): per kind of item, which resource
 * types may be the same thing, which fields make two of them the same (any one list of fields, all
 * equal), an optional time window, and which fields must agree between sources (else: a conflict).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { validOrRefuse } from '../errors/index.ts';
import { CONFLICT_FIELDS, MATCH_FIELDS, WINDOW_FIELDS } from './fields.ts';

const matchField = z.enum(MATCH_FIELDS);

const conflictSchema = z.object({
  field: z.enum(CONFLICT_FIELDS),
  label: z.string().min(1),
  /** maps raw values to the classes compared (e.g. refuted and entered-in-error are one class) */
  values: z.record(z.string(), z.string()).optional(),
  /** the class of any value not in `values`, and of a missing value; unset: missing values are ignored */
  otherwise: z.string().optional(),
});

const ruleSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'a rule id is lower-case letters, digits and dashes'),
    label: z.string().min(1),
    types: z.array(z.string().regex(/^[A-Z][A-Za-z]+$/, 'a FHIR resource type')).min(1),
    /** alternatives: two items are the same when every field of one alternative is present and equal */
    sameWhen: z.array(z.array(matchField).min(1)).min(1),
    /** and, when given, their times are at most this far apart */
    window: z.object({ field: z.enum(WINDOW_FIELDS), minutes: z.number().positive() }).optional(),
    /** only items of different types are joined (an appointment and the attendance it became) */
    distinctTypes: z.boolean().default(false),
    /** items with these statuses stay on their own (a cancelled appointment was no visit) */
    excludeStatus: z.array(z.string()).default([]),
    conflicts: z.array(conflictSchema).default([]),
  })
  .strict();

export const reconcileRulesSchema = z
  .object({ version: z.string().min(1), rules: z.array(ruleSchema) })
  .strict()
  .superRefine((v, ctx) => {
    const seen = new Map<string, string>();
    v.rules.forEach((r, i) =>
      r.types.forEach((t, j) => {
        const other = seen.get(t);
        if (other)
          ctx.addIssue({
            code: 'custom',
            path: ['rules', i, 'types', j],
            message: `${t} is already reconciled by rule "${other}": one rule per type`,
          });
        seen.set(t, r.id);
      }),
    );
  });

export type ReconcileRules = z.infer<typeof reconcileRulesSchema>;
export type ReconcileRule = ReconcileRules['rules'][number];
export type ConflictRule = ReconcileRule['conflicts'][number];

export const DEFAULT_RECONCILE_RULES_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../config/reconcile-rules.json',
);

export function parseReconcileRules(value: unknown, where = 'reconciliation rules'): ReconcileRules {
  return validOrRefuse(reconcileRulesSchema, value, `${where} are not valid`, 'rules');
}

export function loadReconcileRules(file = DEFAULT_RECONCILE_RULES_FILE): ReconcileRules {
  return parseReconcileRules(JSON.parse(readFileSync(file, 'utf8')), file);
}
