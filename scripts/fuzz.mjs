#!/usr/bin/env node
/* global process, console */
/**
 * npm run fuzz [-- --runs N] [-- --seed S]
 * Runs the intake and query fuzz test (test/intake.fuzz.test.ts) longer than CI does: 2,000 runs
 * of each property by default, with a fresh seed unless one is given. The seed is printed first,
 * so a failure can be replayed with --seed.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '2000' }, seed: { type: 'string' } },
});
const runs = Number(values.runs);
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- [--runs N] [--seed S]   (whole numbers)');
  process.exit(2);
}
console.log(
  `fuzz: seed ${seed}, ${runs} runs per property (replay: npm run fuzz -- --seed ${seed} --runs ${runs})`,
);
const r = spawnSync('npx', ['vitest', 'run', 'test/intake.fuzz.test.ts'], {
  stdio: 'inherit',
  env: { ...process.env, FUZZ_RUNS: String(runs), FUZZ_SEED: String(seed) },
});
process.exit(r.status ?? 1);
