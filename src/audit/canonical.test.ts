import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalEvent, digestIds } from './canonical.ts';

/**
 * The digest of what a read released is part of every event's hash, so its form is fixed for good:
 * SHA-256 of each id followed by a newline, in the order released. An auditor recomputes it from
 * a list of ids with any SHA-256 tool (here: `printf 'a\nb\n' | sha256sum`).
 */
describe('digest of released ids', () => {
  it('is SHA-256 of the ids, each followed by a newline', () => {
    expect(digestIds(['a', 'b'])).toBe('911169ddaaf146aff539f58c26c489af3b892dff0fe283c1c264c65ae5aa59a2');
    expect(digestIds([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('is what an event carries as returned.digest', () => {
    const ids = ['8b1f0c1e-0000-4000-8000-000000000001', '8b1f0c1e-0000-4000-8000-000000000002'];
    const event = JSON.parse(
      canonicalEvent(
        { action: 'record.open', outcome: 'success', returnedIds: ids },
        '2026-12-06T10:00:00.000Z',
      ),
    ) as { returned: { count: number; digest: string } };
    expect(event.returned).toEqual({ count: 2, digest: sha(`${ids[0]}\n${ids[1]}\n`) });
  });
});

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
