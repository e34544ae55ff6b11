import { describe, expect, it } from 'vitest';
import { searchsetBundle } from './bundle.ts';

const row = (id: string, body: object) => ({
  id,
  resourceType: 'Observation',
  body: JSON.stringify(body),
  refs: null,
  withheld: null,
});

describe('searchsetBundle', () => {
  it('splices stored bodies in as they are, whatever characters they hold, into valid UTF-8 JSON', () => {
    const bodies = [
      { resourceType: 'Observation', id: 'a', valueString: 'plain' },
      { resourceType: 'Observation', id: 'b', valueString: 'eGFR ≥ 90 mL/min — Zoë, 😀' },
      { resourceType: 'Observation', id: 'c', note: [{ text: 'line\nbreak "quoted" \\ back' }] },
    ];
    const out = searchsetBundle(
      'https://x.example/fhir',
      { resource: { resourceType: 'Patient', id: 'p', name: [{ family: 'Núñez' }] }, mode: 'include' },
      bodies.map((b) => row(b.id, b)),
      { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational' }] },
    );
    const text = out.toString('utf8');
    expect(Buffer.byteLength(text)).toBe(out.length);
    const bundle = JSON.parse(text) as {
      total: number;
      entry: { fullUrl?: string; resource: { id?: string }; search: { mode: string } }[];
    };
    expect(bundle.total).toBe(3);
    expect(bundle.entry.map((e) => e.search.mode)).toEqual(['include', 'match', 'match', 'match', 'outcome']);
    expect(bundle.entry[0]!.resource).toEqual({
      resourceType: 'Patient',
      id: 'p',
      name: [{ family: 'Núñez' }],
    });
    expect(bundle.entry.slice(1, 4).map((e) => e.resource)).toEqual(bodies);
    expect(bundle.entry[2]!.fullUrl).toBe('https://x.example/fhir/Observation/b');
  });

  it('is a valid empty searchset when nothing is shown', () => {
    const bundle = JSON.parse(searchsetBundle('https://x.example/fhir', undefined, []).toString()) as {
      total: number;
      entry: unknown[];
    };
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 0, entry: [] });
  });
});
