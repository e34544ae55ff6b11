import { describe, expect, it } from 'vitest';
import { HostListError, parseHostList } from './hosts.ts';

describe('several hosts in one database URL (libpq form)', () => {
  it('splits the hosts in order and keeps the rest of the URL for each', () => {
    const h = parseHostList(
      'postgres://app:s3cret@db1:5432,db2:5433/sharedcare?target_session_attrs=read-write&sslmode=require',
    );
    expect(h.attrs).toBe('read-write');
    expect(h.urls).toEqual([
      'postgres://app:s3cret@db1:5432/sharedcare?sslmode=require',
      'postgres://app:s3cret@db2:5433/sharedcare?sslmode=require',
    ]);
    expect(h.names).toEqual(['db1:5432', 'db2:5433']);
  });

  it('asks for a writable server when several hosts are given without target_session_attrs', () => {
    expect(parseHostList('postgresql://u@a,b:6000/db').attrs).toBe('read-write');
    expect(parseHostList('postgresql://u@a,b:6000/db').urls).toEqual([
      'postgresql://u@a/db',
      'postgresql://u@b:6000/db',
    ]);
  });

  it('leaves a one-host URL as it was', () => {
    const h = parseHostList('postgres://postgres@127.0.0.1:5432/postgres');
    expect(h).toEqual({
      urls: ['postgres://postgres@127.0.0.1:5432/postgres'],
      names: ['127.0.0.1:5432'],
      attrs: 'any',
    });
  });

  it('takes IPv6 hosts in brackets', () => {
    expect(parseHostList('postgres://u@[::1]:5432,[fe80::2]/db').urls).toEqual([
      'postgres://u@[::1]:5432/db',
      'postgres://u@[fe80::2]/db',
    ]);
  });

  it.each(['read-only', 'standby', 'prefer-standby'])(
    'refuses target_session_attrs=%s: the server writes',
    (attrs) => {
      expect(() => parseHostList(`postgres://u@a,b/db?target_session_attrs=${attrs}`)).toThrow(HostListError);
    },
  );

  it('refuses a malformed host list, saying which host', () => {
    expect(() => parseHostList('postgres://u@a:1:2,b/db')).toThrow(/"a:1:2"/);
  });
});
