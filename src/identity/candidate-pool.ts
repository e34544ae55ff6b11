import { recordKey, type CandidateRecord } from './decide.ts';
import { blockingKeys, keyProbes, type MatchFeatures } from './features.ts';

/** Where a decision finds the records it is compared with (see CandidatePool, OneRecordPool). */
export interface Candidates {
  near(f: MatchFeatures, self: string): CandidateRecord[];
  add(r: CandidateRecord): void;
  update(sourceId: string, localId: string, personId: string, personNhs: string | null): void;
}

/** Candidates by blocking key, growing as the batch's own records are decided. */
export class CandidatePool implements Candidates {
  private byKey = new Map<string, CandidateRecord[]>();
  constructor(records: CandidateRecord[]) {
    for (const r of records) this.add(r);
  }
  add(r: CandidateRecord): void {
    for (const key of blockingKeys(r.features).block) {
      const list = this.byKey.get(key);
      if (list) list.push(r);
      else this.byKey.set(key, [r]);
    }
  }
  near(f: MatchFeatures, self: string): CandidateRecord[] {
    const found = new Map<string, CandidateRecord>();
    for (const key of keyProbes(f))
      for (const r of this.byKey.get(key) ?? []) {
        const id = recordKey(r.sourceId, r.localId);
        if (id !== self) found.set(id, r);
      }
    return [...found.values()];
  }
  /** a record moved or a person took an NHS number: later decisions in the batch see it */
  update(sourceId: string, localId: string, personId: string, personNhs: string | null): void {
    for (const list of this.byKey.values())
      for (const r of list)
        if (r.personId === personId || (r.sourceId === sourceId && r.localId === localId)) {
          r.personId = personId;
          r.personNhs = r.personNhs ?? personNhs;
        }
  }
}

/**
 * The candidates of a batch of one record. The read found each by one of the record's own probe
 * keys (the stored keys of a candidate overlap keyProbes of the record: decision-reads.ts), so the
 * keyed pool would hand back every one of them: this skips computing each candidate's keys again
 * (at 1,000,000 persons that was a quarter of what a decision allocated, 2026-12-07), and, with no
 * later decision in the batch, keeps nothing after it.
 */
export class OneRecordPool implements Candidates {
  constructor(private readonly records: CandidateRecord[]) {}
  near(_f: MatchFeatures, self: string): CandidateRecord[] {
    const found = new Map<string, CandidateRecord>();
    for (const r of this.records) {
      const id = recordKey(r.sourceId, r.localId);
      if (id !== self) found.set(id, r);
    }
    return [...found.values()];
  }
  add(): void {}
  update(): void {}
}
