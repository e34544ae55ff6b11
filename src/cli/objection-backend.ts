/**
 * The objection register and the national data opt-out from the command line: directly on the
 * database, or through the running server's admin API when it owns the embedded data folder.
 */
import type { Actor, AdminService } from '../admin/index.ts';

export interface ObjectionBackend {
  add(input: {
    nhs: string;
    scope: string;
    target?: string;
    note?: string;
    requestedOn?: string;
    requestSource?: string;
  }): Promise<unknown>;
  withdraw(id: string, how: { requestedOn?: string; requestSource?: string }): Promise<unknown>;
  list(nhs: string, all: boolean): Promise<unknown[]>;
  override(
    id: string,
    r: { ground: string; reason: string; endsOn: string; forOrg?: string },
  ): Promise<unknown>;
  endOverride(id: string): Promise<unknown>;
  setOptOut(b: { nhs: string; optedOut: boolean; source: string }): Promise<unknown>;
  getOptOut(nhs: string): Promise<unknown>;
}

/** `registrar` keeps the register; `decider` is the role that may override (the DPO by default). */
export function directObjections(admin: AdminService, registrar: Actor, decider: Actor): ObjectionBackend {
  return {
    add: (i) => admin.addObjection(registrar, i as never),
    withdraw: (id, how) => admin.withdrawObjection(registrar, id, how),
    list: (nhs, all) => admin.listObjections(registrar, nhs, all),
    override: (id, r) => admin.overrideObjection(decider, id, r),
    endOverride: (id) => admin.endOverride(decider, id),
    setOptOut: (b) => admin.setOptOut(registrar, b),
    getOptOut: (nhs) => admin.getOptOut(registrar, nhs),
  };
}

type Call = <T>(token: string, method: string, path: string, body?: unknown) => Promise<T>;

export function serverObjections(call: Call, registrar: string, decider: string): ObjectionBackend {
  const id = encodeURIComponent;
  return {
    add: (i) => call(registrar, 'POST', '/admin/objections', i),
    withdraw: (o, how) => call(registrar, 'POST', `/admin/objections/${id(o)}/withdraw`, how),
    list: (nhs, all) =>
      call(
        registrar,
        'GET',
        `/admin/objections?${new URLSearchParams({ nhs, all: String(all) }).toString()}`,
      ),
    override: (o, r) => call(decider, 'POST', `/admin/objections/${id(o)}/override`, r),
    endOverride: (o) => call(decider, 'POST', `/admin/overrides/${id(o)}/end`, {}),
    setOptOut: (b) => call(registrar, 'PUT', '/admin/opt-out', b),
    getOptOut: (nhs) => call(registrar, 'GET', `/admin/opt-out?${new URLSearchParams({ nhs }).toString()}`),
  };
}
