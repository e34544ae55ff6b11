/**
 * Several PostgreSQL hosts in one URL, in libpq's form:
 *
 *   postgres://user@db1:5432,db2:5433/sharedcare?target_session_attrs=read-write
 *
 * node-postgres connects to one host only (multi-host support is an open pull request,
 * brianc/node-postgres#3643, not in a release), and `new URL()` refuses the comma list. This splits
 * the URL into one ordinary URL per host, in order, and reads `target_session_attrs`; the pool in
 * primary-pool.ts tries the hosts in that order, as libpq does.
 */

/** What a session must be for Sharedcare to use it: it writes, so only these make sense. */
export type SessionAttrs = 'any' | 'read-write' | 'primary';

export interface HostList {
  /** one connection URL per host, in the order given */
  urls: string[];
  /** `host:port` of each, for messages (no user or password) */
  names: string[];
  attrs: SessionAttrs;
}

const FORM = /^(postgres(?:ql)?:\/\/)(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/;
const HOST = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/;

export class HostListError extends Error {}

/**
 * Splits a libpq-style URL. With several hosts and no `target_session_attrs`, `read-write` is
 * assumed: Sharedcare writes on every read (the audit trail), so a standby is never what it wants.
 * `read-only`, `standby` and `prefer-standby` are refused for the same reason.
 */
export function parseHostList(url: string): HostList {
  const m = FORM.exec(url);
  if (!m)
    throw new HostListError('the database URL is not of the form postgres://user@host:port[,host:port…]/db');
  const [, scheme, userinfo, hostPart = '', path = '', query = ''] = m;
  const params = new URLSearchParams(query.slice(1));
  const given = params.get('target_session_attrs');
  params.delete('target_session_attrs');
  const hosts = hostPart === '' ? [''] : hostPart.split(',');
  const attrs = given ?? (hosts.length > 1 ? 'read-write' : 'any');
  if (attrs !== 'any' && attrs !== 'read-write' && attrs !== 'primary')
    throw new HostListError(
      `target_session_attrs=${attrs} cannot be used: Sharedcare writes (every read is audited), so use read-write or primary`,
    );
  const rest = `${path}${params.size > 0 ? `?${params.toString()}` : ''}`;
  const names: string[] = [];
  const urls = hosts.map((h) => {
    const hm = HOST.exec(h);
    if (h !== '' && !hm) throw new HostListError(`"${h}" is not a host[:port] in the database URL`);
    names.push(h || 'localhost');
    return `${scheme}${userinfo !== undefined ? `${userinfo}@` : ''}${h}${rest}`;
  });
  return { urls, names, attrs };
}
