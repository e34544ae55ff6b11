/**
 * Who else used the machine's cores during a timed pass: every thread of this process other than
 * the main one (V8's compiler and collector helpers, libuv's pool) and every other process on the
 * machine, by name, from /proc/<pid>/task/<tid>/schedstat (nanoseconds on a CPU). Linux only;
 * elsewhere it reads nothing. Used by `npm run bench:identity` to say what a decision's time
 * "waiting for a core" was waiting behind.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** CPU ns and name of every thread on the machine but our main one, by "pid/tid". */
type Mark = Map<string, { name: string; ns: number }>;

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the thread ended, or is not ours to read
  }
};

const numeric = (dir: string): string[] => {
  try {
    return readdirSync(dir).filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
};

/** A process's name; PostgreSQL's by their title ("postgres: checkpointer"; backends "postgres: <user>"). */
function processName(pid: string): string {
  const comm = read(`/proc/${pid}/comm`)?.trim() ?? '?';
  if (comm !== 'postgres') return comm;
  const title = read(`/proc/${pid}/cmdline`)?.replaceAll('\0', ' ').trim().split(/\s+/) ?? [];
  if (title[0] !== 'postgres:' || !title[1]) return 'postgres';
  // a backend's title names its client (several run at once: told apart by process id)
  const backend = title.some((w) => /\(\d+\)$/.test(w) || w === '[local]');
  return backend ? `postgres: backend ${pid}` : title.join(' ');
}

export function machineCpuMark(): Mark {
  const mark: Mark = new Map();
  for (const pid of numeric('/proc')) {
    const proc = processName(pid);
    for (const tid of numeric(`/proc/${pid}/task`)) {
      if (Number(pid) === process.pid && Number(tid) === process.pid) continue; // our main thread
      const ns = Number(read(`/proc/${pid}/task/${tid}/schedstat`)?.split(' ')[0] ?? 0);
      if (!ns) continue;
      const thread = read(`/proc/${pid}/task/${tid}/comm`)?.trim() ?? '?';
      const who =
        Number(pid) === process.pid ? `this process/${thread}` : thread === proc ? proc : `${proc}/${thread}`;
      // a kernel worker's name changes with its work item: threads are keyed by id, not by name
      mark.set(`${pid}/${tid}`, { name: who, ns });
    }
  }
  return mark;
}

/**
 * CPU ms since the mark by name (threads of one name summed, PostgreSQL's backends by their
 * process title's first words), largest first, those over `minMs` only.
 */
export function machineCpuSince(mark: Mark, minMs = 1): Array<[string, number]> {
  const now = machineCpuMark();
  const byName = new Map<string, number>();
  for (const [key, { name, ns }] of now) {
    const ms = (ns - (mark.get(key)?.ns ?? 0)) / 1e6;
    byName.set(name, (byName.get(name) ?? 0) + ms);
  }
  return [...byName].filter(([, ms]) => ms >= minMs).sort((a, b) => b[1] - a[1]);
}
