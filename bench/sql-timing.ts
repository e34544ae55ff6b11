/**
 * `--sql-timing` for the benchmarks: wraps a Database so that every statement the server sends is
 * timed on the driver (one row per statement text: count, total, mean), and each transaction's
 * whole time too (its statements plus BEGIN/COMMIT and the time spent in JavaScript between them).
 * For finding which statement a benchmark waits on, and which one grows with the store.
 */
import type { Database, Queryable } from '../src/db/index.ts';

interface Stat {
  n: number;
  ms: number;
}

export interface TimedDatabase {
  db: Database;
  /** the table of statements since the last reset, slowest total first */
  report(top?: number): string;
  /** statements and transactions since the last reset (BEGIN and COMMIT not among the statements) */
  counts(): { statements: number; transactions: number };
  reset(): void;
}

const keyOf = (sql: string) => sql.replace(/\s+/g, ' ').trim().slice(0, 110);

export function timeStatements(inner: Database): TimedDatabase {
  let stats = new Map<string, Stat>();
  const add = (key: string, ms: number) => {
    const s = stats.get(key) ?? { n: 0, ms: 0 };
    s.n++;
    s.ms += ms;
    stats.set(key, s);
  };
  const timed = (q: Queryable): Queryable => ({
    async query(sql, params) {
      const t0 = performance.now();
      try {
        return await q.query(sql, params);
      } finally {
        add(keyOf(sql), performance.now() - t0);
      }
    },
  });
  const outer = timed(inner);
  const db: Database = {
    kind: inner.kind,
    query: outer.query,
    async transaction(fn) {
      const t0 = performance.now();
      try {
        return await inner.transaction((tx) => fn(timed(tx)));
      } finally {
        add('(whole transaction)', performance.now() - t0);
      }
    },
    exec: (sql) => inner.exec(sql),
    close: () => inner.close(),
  };
  return {
    db,
    reset: () => (stats = new Map()),
    counts() {
      let statements = 0;
      for (const [k, s] of stats) if (k !== '(whole transaction)') statements += s.n;
      return { statements, transactions: stats.get('(whole transaction)')?.n ?? 0 };
    },
    report(top = 25) {
      const rows = [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, top);
      return [
        '| statement | count | total ms | mean ms |',
        '| --- | --- | --- | --- |',
        ...rows.map(([k, s]) => `| \`${k}\` | ${s.n} | ${s.ms.toFixed(0)} | ${(s.ms / s.n).toFixed(2)} |`),
      ].join('\n');
    },
  };
}
