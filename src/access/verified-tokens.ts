/**
 * Tokens already verified, kept until they expire, so that a clinician's every request does not
 * pay for the signature check again (through WebCrypto each check is a job and a promise, and a key
 * import for HMAC: measured at about a twentieth of a record open's CPU in the soak, BENCHMARKS.md).
 *
 * Safe because the key is the whole token, signature included: a token differing by one byte is
 * another key and is verified in full. An entry is used only while the clock that verified the
 * token still says it has not expired; after that the full check runs and gives its own error.
 * What it does not do: notice a signing key withdrawn from a provider's JWKS before the tokens it
 * signed expire (jose's JWKS cache has the same window; tokens' lifetime is capped per provider).
 * Written here because it is a bounded map, not worth a dependency.
 */
import type { Principal } from './principal.ts';

interface Entry {
  principal: Principal;
  /** the token's exp, in seconds, plus the tolerance its verification allowed */
  validUntilSeconds: number;
  /** the clock its verification used (jose's own, or the injected one for providers) */
  nowMs: () => number;
}

export class VerifiedTokens {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = 10_000) {}

  /** The principal of a token verified before and still in date, or undefined. */
  get(token: string): Principal | undefined {
    const e = this.entries.get(token);
    if (!e) return undefined;
    if (e.nowMs() / 1000 < e.validUntilSeconds) return e.principal;
    this.entries.delete(token);
    return undefined;
  }

  /** Remembers a verified token; one without an expiry is never kept. */
  remember(
    token: string,
    principal: Principal,
    exp: unknown,
    toleranceSeconds: number,
    nowMs: () => number,
  ): void {
    if (typeof exp !== 'number') return;
    if (this.entries.size >= this.capacity) {
      // the oldest entry goes first (a Map iterates in insertion order)
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(token, {
      principal: Object.freeze({ ...principal }),
      validUntilSeconds: exp + toleranceSeconds,
      nowMs,
    });
  }
}
