/**
 * The never-shared lists and the review queue from the command line: directly on the database, or
 * through the running server's admin API when it owns the embedded data folder (so the server's
 * lists in force change at once, without a restart).
 */
import type { Actor, SensitivityService } from '../admin/index.ts';

export interface ImportedList {
  name: string;
  version?: string | undefined;
  date?: string | undefined;
  sourceFile?: string | undefined;
  codes: { category: string; system: string; code: string; match: 'exact' | 'prefix' | 'context' }[];
}

export interface SensitivityBackend {
  listReviews(status: string): Promise<unknown[]>;
  decide(
    itemId: string,
    decision: 'confirm' | 'release',
    who: { by?: string; org?: string },
  ): Promise<unknown>;
  listCodeLists(): Promise<
    { name: string; version: string | null; date: string | null; codeCount: number }[]
  >;
  codesOfList(name: string): Promise<ImportedList['codes']>;
  importCodeList(list: ImportedList): Promise<unknown>;
  removeCodeList(name: string): Promise<unknown>;
}

export function directSensitivity(svc: SensitivityService, actor: Actor): SensitivityBackend {
  return {
    listReviews: (status) => svc.listReviews(actor, status as never),
    decide: (id, decision, who) => svc.decide(actor, id, decision, who),
    listCodeLists: () => svc.listCodeLists(),
    codesOfList: (name) => svc.codesOfList(name),
    importCodeList: (list) => svc.importCodeList(actor, list),
    removeCodeList: (name) => svc.removeCodeList(actor, name),
  };
}

type Call = <T>(method: string, path: string, body?: unknown) => Promise<T>;

export function serverSensitivity(call: Call): SensitivityBackend {
  const id = encodeURIComponent;
  return {
    listReviews: (status) => call('GET', `/admin/sensitivity/review?status=${id(status)}`),
    decide: (item, decision, who) =>
      call('POST', `/admin/sensitivity/review/${id(item)}`, { decision, ...who }),
    listCodeLists: () => call('GET', '/admin/code-lists'),
    codesOfList: (name) => call('GET', `/admin/code-lists/${id(name)}/codes`),
    importCodeList: (list) => call('POST', '/admin/code-lists', list),
    removeCodeList: (name) => call('DELETE', `/admin/code-lists/${id(name)}`),
  };
}
