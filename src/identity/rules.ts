/**
 * The match rules as data (config/identity-rules.json): which comparisons count, the m and u
 * probability of each comparison level, how a missing value counts, which levels cap a decision,
 * and the two thresholds. Versioned: `sharedcare identity train` writes the next version.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { validOrRefuse } from '../errors/index.ts';
import { COMPARATORS } from './comparators.ts';

const probability = z.number().gt(0).lt(1);

const comparisonSchema = z.object({
  /** the name shown in explanations and used by the trainer */
  field: z.string().min(1),
  comparator: z.enum(Object.keys(COMPARATORS) as [string, ...string[]]),
  /** Jaro-Winkler threshold for the "similar" level, where the comparator has one */
  similarity: z.number().min(0).max(1).default(0.9),
  levels: z.array(z.object({ level: z.string(), m: probability, u: probability })).min(2),
  /** agreement on a rare value counts for more (u from the region's own value counts) */
  termFrequency: z.boolean().default(false),
  /** a missing value adds nothing ('neutral') or counts as the worst level ('disagree') */
  missing: z.enum(['neutral', 'disagree']).default('neutral'),
  /** levels that stop an automatic link whatever the total: at most 'review', or 'apart' */
  caps: z.array(z.object({ level: z.string(), decision: z.enum(['review', 'apart']) })).default([]),
});

export const matchRulesSchema = z
  .object({
    version: z.number().int().positive(),
    description: z.string().optional(),
    trainedAt: z.string().optional(),
    /** match weights are log2(m/u), summed over the comparisons */
    thresholds: z.object({ link: z.number(), review: z.number() }),
    comparisons: z.array(comparisonSchema).min(1),
  })
  .superRefine((r, ctx) => {
    if (r.thresholds.review > r.thresholds.link)
      ctx.addIssue({ code: 'custom', message: 'thresholds.review must not exceed thresholds.link' });
    r.comparisons.forEach((c, i) => {
      const want = COMPARATORS[c.comparator]!.levels;
      const have = c.levels.map((l) => l.level);
      if (want.join() !== have.join())
        ctx.addIssue({
          code: 'custom',
          path: ['comparisons', i, 'levels'],
          message: `${c.comparator} has the levels ${want.join(', ')} (in that order)`,
        });
      for (const cap of c.caps)
        if (!want.includes(cap.level))
          ctx.addIssue({
            code: 'custom',
            path: ['comparisons', i, 'caps'],
            message: `no level ${cap.level}`,
          });
    });
  });

export type MatchRules = z.infer<typeof matchRulesSchema>;
export type Comparison = MatchRules['comparisons'][number];

export const DEFAULT_RULES_FILE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../config/identity-rules.json',
);

export function parseMatchRules(value: unknown, where = 'identity rules'): MatchRules {
  return validOrRefuse(matchRulesSchema, value, `${where} are not valid`, 'rules');
}

export function loadMatchRules(file = DEFAULT_RULES_FILE): MatchRules {
  return parseMatchRules(JSON.parse(readFileSync(file, 'utf8')), file);
}
