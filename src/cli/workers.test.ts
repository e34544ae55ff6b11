import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import { workerCount, workerEnvironment, WorkersError } from './workers.ts';

const pglite = loadConfig({}, { NODE_ENV: 'test' });
const postgres = loadConfig({}, { NODE_ENV: 'test', DATABASE_URL: 'postgres://u@db-a,db-b/sc' });

describe('serve --workers', () => {
  it('defaults to one process per core on PostgreSQL and to one on the embedded database', () => {
    expect(workerCount(undefined, postgres)).toBe(os.availableParallelism());
    expect(workerCount(undefined, pglite)).toBe(1);
  });

  it('takes the number given', () => {
    expect(workerCount('3', postgres)).toBe(3);
    expect(workerCount('1', pglite)).toBe(1);
  });

  it('refuses several processes on the embedded database, saying why', () => {
    expect(() => workerCount('2', pglite)).toThrow(WorkersError);
    expect(() => workerCount('2', pglite)).toThrow(/needs PostgreSQL \(DATABASE_URL\)/);
  });

  it.each(['0', '-1', 'two', '1.5'])('refuses --workers %s', (n) => {
    expect(() => workerCount(n, postgres)).toThrow(/whole number of processes, 1 or more/);
  });

  it("caps glibc's arenas in the workers' environment unless the operator chose a setting", () => {
    expect(workerEnvironment({})).toEqual({ MALLOC_ARENA_MAX: '2' });
    expect(workerEnvironment({ MALLOC_ARENA_MAX: '8' })).toEqual({});
    expect(workerEnvironment({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=4' })).toEqual({});
    // a tunable about something else leaves the cap in place
    expect(workerEnvironment({ GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=131072' })).toEqual({
      MALLOC_ARENA_MAX: '2',
    });
  });
});
