import { describe, expect, it } from 'vitest';
import { hl7DateToFhir } from './dates.ts';

describe('HL7 v2 times without a zone (Europe/London)', () => {
  it('answers the same with the cache warm as cold, either side of the change', () => {
    const at = (ts: string) => hl7DateToFhir(ts, 'MSH-7');
    expect(at('202603290059')).toEqual({ ok: true, value: '2026-03-29T00:59:00+00:00' });
    expect(at('202603290230')).toEqual({ ok: true, value: '2026-03-29T02:30:00+01:00' });
    expect(at('202603290215')).toEqual({ ok: true, value: '2026-03-29T02:15:00+01:00' });
    expect(at('202610250030')).toEqual({ ok: true, value: '2026-10-25T00:30:00+01:00' });
    expect(at('202610250230')).toEqual({ ok: true, value: '2026-10-25T02:30:00+00:00' });
    expect(at('202607011200')).toEqual({ ok: true, value: '2026-07-01T12:00:00+01:00' });
    expect(at('202601011200')).toEqual({ ok: true, value: '2026-01-01T12:00:00+00:00' });
  });
});
