/**
 * Requests refused before they reach the gate (no token, a token that does not verify, a source
 * system's token on a read, a role that may not use the endpoint) are recorded in the trail as
 * `request.refused` events, in the hash chain like every other event. The gate records its own
 * refusals (`access.refused`), which name the person.
 *
 * An unauthenticated caller must not be able to fill the trail, so repeats are aggregated: within
 * one window (aligned to the clock), the first refusal for a (client address, reason, route) is
 * written at once; repeats are counted and written as one event with the count when the window is
 * over (at the next refusal after it, at the periodic flush, or when the server closes). At most
 * `maxPerWindow` distinct refusals are written one by one per window; the rest are counted and
 * written as one `rate-capped` event with the count. So a window writes at most
 * 2 × maxPerWindow + 1 events however many requests arrive. The limits apply per server process.
 */
import type { Database } from '../db/index.ts';
import { recordAuditEvent } from './record.ts';
import type { AuditEventInput, AuditUser } from './types.ts';

/** Why a request was refused before the gate. */
export type RefusalReason =
  /** no bearer token */
  | 'no-token'
  /** a token that does not verify (signature, issuer, audience, expiry, claims) */
  | 'token-invalid'
  /** a source system's token on an endpoint for users */
  | 'not-a-user'
  /** a user whose role may not use the endpoint */
  | 'role';

export interface RefusedRequest {
  /** the method and the route as the server names it, never the URL ("GET /fhir/Patient/:id") */
  route: string;
  reason: RefusalReason;
  /** why, in the server's own words (never anything from the request) */
  message: string;
  network?: string | undefined;
  requestId?: string | undefined;
  /** the caller, only as far as verified: a user whose token verified */
  user?: AuditUser | undefined;
  /** a source system whose token verified */
  source?: string | undefined;
  /** the subject a token that did not verify claims: recorded as unverified, never trusted */
  unverifiedSubject?: string | undefined;
}

export interface RefusalLimits {
  windowSeconds: number;
  /** distinct refusals written one by one per window; the rest are counted */
  maxPerWindow: number;
}

export const DEFAULT_REFUSAL_LIMITS: RefusalLimits = { windowSeconds: 60, maxPerWindow: 200 };

export interface RefusalRecorder {
  readonly limits: RefusalLimits;
  /** Records one refusal (written at once, or counted); never throws (onError hears of failures). */
  record(r: RefusedRequest): Promise<void>;
  /** Writes the counts of a window that is over (all counts when `all`: the server is closing). */
  flush(all?: boolean): Promise<void>;
}

/** Only a plain identifier is kept of an unverified subject: it is the caller's text. */
const SAFE_SUBJECT = /^[\w.@:-]{1,64}$/;

function eventOf(r: RefusedRequest, extra: Partial<AuditEventInput> = {}): AuditEventInput {
  const unverified =
    r.unverifiedSubject && SAFE_SUBJECT.test(r.unverifiedSubject)
      ? `; the token names subject "${r.unverifiedSubject}" (unverified)`
      : '';
  return {
    action: 'request.refused',
    outcome: 'refused',
    ...(r.user ? { user: r.user } : {}),
    ...(r.source ? { client: `source:${r.source}` } : {}),
    ...(r.network ? { network: r.network } : {}),
    ...(r.requestId ? { requestId: r.requestId } : {}),
    query: r.route,
    reasons: [r.reason],
    detail: `${r.user || r.source ? '' : 'unauthenticated: '}${r.message}${unverified}`,
    count: 1,
    ...extra,
  };
}

interface Window {
  start: number;
  /** first refusal and repeats since, by (address, reason, route) */
  seen: Map<string, { first: RefusedRequest; repeats: number }>;
  written: number;
  /** refusals beyond the cap, by reason */
  capped: Map<RefusalReason, number>;
}

export function refusalRecorder(
  db: Database,
  opts: {
    limits?: RefusalLimits;
    /** the clock (tests inject one) */
    now?: () => Date;
    onError?: (err: unknown) => void;
  } = {},
): RefusalRecorder {
  const limits = opts.limits ?? DEFAULT_REFUSAL_LIMITS;
  const now = opts.now ?? (() => new Date());
  const windowMs = limits.windowSeconds * 1000;
  const fresh = (t: number): Window => ({
    start: Math.floor(t / windowMs) * windowMs,
    seen: new Map(),
    written: 0,
    capped: new Map(),
  });
  let current = fresh(now().getTime());

  const write = async (events: AuditEventInput[]) => {
    if (events.length === 0) return;
    try {
      const at = now();
      await db.transaction(async (tx) => {
        for (const e of events) await recordAuditEvent(tx, e, { now: at });
      });
    } catch (err) {
      opts.onError?.(err);
    }
  };

  /** The events that sum up a window: repeats per key, and what the cap held back. */
  const summary = (w: Window): AuditEventInput[] => {
    const period = `between ${new Date(w.start).toISOString()} and ${new Date(w.start + windowMs).toISOString()}`;
    const out = [...w.seen.values()]
      .filter((s) => s.repeats > 0)
      .map((s) =>
        eventOf(s.first, {
          count: s.repeats,
          detail: `${s.repeats} more refused like the first from this address, for this reason and route, ${period}`,
        }),
      );
    const capped = [...w.capped.values()].reduce((a, b) => a + b, 0);
    if (capped > 0)
      out.push({
        action: 'request.refused',
        outcome: 'refused',
        reasons: ['rate-capped', ...[...w.capped.keys()].sort()],
        count: capped,
        detail: `${capped} refused requests beyond ${limits.maxPerWindow} recorded one by one ${period}: counted, not recorded one by one`,
      });
    return out;
  };

  /** Starts a new window if the clock has left the current one; returns the one that ended. */
  const roll = (t: number): Window | undefined => {
    if (t < current.start + windowMs) return undefined;
    const ended = current;
    current = fresh(t);
    return ended;
  };

  return {
    limits,
    async record(r) {
      const ended = roll(now().getTime());
      const key = `${r.network ?? ''}|${r.reason}|${r.route}`;
      const seen = current.seen.get(key);
      let event: AuditEventInput | undefined;
      if (seen) seen.repeats++;
      else if (current.written >= limits.maxPerWindow)
        current.capped.set(r.reason, (current.capped.get(r.reason) ?? 0) + 1);
      else {
        current.seen.set(key, { first: r, repeats: 0 });
        current.written++;
        event = eventOf(r);
      }
      await write([...(ended ? summary(ended) : []), ...(event ? [event] : [])]);
    },

    async flush(all = false) {
      const ended = roll(now().getTime()) ?? (all ? current : undefined);
      if (!ended) return;
      if (ended === current) current = fresh(now().getTime());
      await write(summary(ended));
    },
  };
}
