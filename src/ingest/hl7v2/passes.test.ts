import { describe, expect, it } from 'vitest';
import { parseMessage } from './message.ts';
import { passesOf, type PassItem } from './passes.ts';

const msh = (source: string, control: string, type: string) =>
  `MSH|^~\\&|${source}|RX1|SHAREDCARE|REGION|20240315101500||${type}|${control}|P|2.4`;

/** A message about `patient` from `source` (with an MRG segment when `merges` is given). */
function item(
  control: string,
  patient: string,
  source = 'pas',
  merges?: string,
): PassItem & { control: string } {
  const text = [
    msh(source, control, merges ? 'ADT^A40^ADT_A39' : 'ADT^A08^ADT_A01'),
    'EVN|A08|20240315101500',
    `PID|1||${patient}^^^RX1^MR||TESTER^Pat||19700101|M`,
    ...(merges ? [`MRG|${merges}^^^RX1^MR`] : []),
  ].join('\r');
  return {
    control,
    job: { source: { id: source }, orderKey: `${source}|${patient}`, parsed: parseMessage(text) },
  };
}

const controls = (passes: { control: string }[][]) => passes.map((p) => p.map((i) => i.control));

describe('HL7 v2 passes: which messages of a batch go through the pipeline together', () => {
  it('puts different patients of one source in one pass, and a patient seen again in the next', () => {
    const batch = [
      item('1', 'A'),
      item('2', 'B'),
      item('3', 'C'),
      item('4', 'A'),
      item('5', 'D'),
      item('6', 'A'),
    ];
    expect(controls(passesOf(batch))).toEqual([['1', '2', '3'], ['4', '5'], ['6']]);
  });

  it('starts a new pass when the source changes', () => {
    const batch = [
      item('1', 'A', 'pas'),
      item('2', 'B', 'lab'),
      item('3', 'C', 'lab'),
      item('4', 'D', 'pas'),
    ];
    expect(controls(passesOf(batch))).toEqual([['1'], ['2', '3'], ['4']]);
  });

  it('sends a merge alone: the record it retires is another patient of the source', () => {
    const batch = [
      item('1', 'A'),
      item('2', 'B'),
      item('3', 'C', 'pas', 'A'),
      item('4', 'A'),
      item('5', 'E'),
    ];
    expect(controls(passesOf(batch))).toEqual([['1', '2'], ['3'], ['4', '5']]);
  });

  it('keeps every message, in the order it came', () => {
    const batch = Array.from({ length: 30 }, (_, k) => item(String(k), `P${k % 7}`));
    expect(passesOf(batch).flat()).toEqual(batch);
    expect(passesOf([])).toEqual([]);
  });
});
