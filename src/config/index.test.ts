import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, productionProblems } from './index.ts';

function write(name: string, text: string): string {
  const p = path.join(mkdtempSync(path.join(os.tmpdir(), 'cfg-')), name);
  writeFileSync(p, text);
  return p;
}

describe('configuration', () => {
  it('has working defaults for development', () => {
    const c = loadConfig({}, {});
    expect(c).toMatchObject({
      production: false,
      host: '127.0.0.1',
      port: 8080,
      mllpPort: 2575,
      databaseUrl: undefined,
      validation: 'schema',
    });
    expect(c.devIssuerSecret).toBeTruthy();
    expect(c.dataDir).toBe(path.resolve('.sharedcare'));
  });

  it('has no development issuer secret at all in production mode', () => {
    expect(loadConfig({}, { NODE_ENV: 'production' }).devIssuerSecret).toBeUndefined();
    expect(
      loadConfig({ production: true }, { SHAREDCARE_DEV_SECRET: 'x'.repeat(40) }).devIssuerSecret,
    ).toBeUndefined();
  });

  it('reads organisations and sources from a YAML file', () => {
    const file = write(
      'region.yaml',
      'organisations:\n  - { ods: RX1, name: Northgate, contributes: true, views: true }\nsources:\n  - { id: pas, org: RX1, kind: fhir }\n',
    );
    const c = loadConfig({ configFile: file }, {});
    expect(c.organisations).toEqual([{ ods: 'RX1', name: 'Northgate', contributes: true, views: true }]);
    expect(c.sources).toEqual([{ id: 'pas', org: 'RX1', kind: 'fhir' }]);
  });

  it('reads access rules: relationship window, break-glass minutes, extra roles', () => {
    const file = write(
      'access.yaml',
      'access:\n  recentDays: 90\n  breakGlassMinutes: 30\n  roles: { LA-SW: social-care }\n',
    );
    expect(loadConfig({ configFile: file }, {}).access).toEqual({
      recentDays: 90,
      breakGlassMinutes: 30,
      roles: { 'LA-SW': 'social-care' },
    });
    const bad = write('bad-access.yaml', 'access:\n  roles: { X: superuser }\n');
    expect(() => loadConfig({ configFile: bad }, {})).toThrow(/access\.roles\.X/);
  });

  it('lists every problem at once, saying where', () => {
    const file = write(
      'bad.json',
      JSON.stringify({
        organisations: [{ ods: 'lower', name: '' }],
        sources: [{ id: 'X', org: 'RX1', kind: 'ftp' }],
        extra: 1,
      }),
    );
    let err: unknown;
    try {
      loadConfig(
        { configFile: file, port: 70000 },
        { DATABASE_URL: 'mysql://x', SHAREDCARE_DEV_SECRET: 'short', SHAREDCARE_VALIDATION: 'loose' },
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    for (const expected of [
      'organisations.0.ods',
      'sources.0.id',
      'sources.0.kind',
      'extra',
      'port',
      'DATABASE_URL',
      'SHAREDCARE_DEV_SECRET',
      'SHAREDCARE_VALIDATION',
    ]) {
      expect(problems).toContain(expected);
    }
  });

  it('will not start in production mode without a trusted identity provider, PostgreSQL and a session secret', () => {
    expect(productionProblems(loadConfig({}, {}))).toEqual([]);
    const bare = productionProblems(loadConfig({ production: true }, {}));
    expect(bare.join('\n')).toMatch(/identity provider/);
    expect(bare.join('\n')).toMatch(/DATABASE_URL/);
    expect(bare.join('\n')).toMatch(/SHAREDCARE_SESSION_SECRET is not set/);
    const framed = productionProblems(
      loadConfig(
        { production: true },
        { SHAREDCARE_FRAME_ANCESTORS: 'http://gp.example https://pas.example' },
      ),
    );
    expect(framed.join('\n')).toMatch(/frameAncestors: http:\/\/gp\.example must be an https/);
    expect(framed.join('\n')).not.toMatch(/pas\.example/);
    expect(() => loadConfig({}, { SHAREDCARE_FRAME_ANCESTORS: "'unsafe-inline'" })).toThrow(/not an origin/);
    const file = write(
      'prod.yaml',
      'identityProviders:\n  - { issuer: "https://idp.example.nhs.uk", claims: { style: cis2 } }\n',
    );
    const ready = loadConfig(
      { production: true, configFile: file },
      {
        DATABASE_URL: 'postgres://db/sharedcare',
        SHAREDCARE_DB_ROLE: 'sharedcare_app',
        SHAREDCARE_SESSION_SECRET: randomBytes(32).toString('base64'),
      },
    );
    expect(productionProblems(ready)).toEqual([]);
    expect(ready.identityProviders[0]).toMatchObject({
      issuer: 'https://idp.example.nhs.uk',
      audience: 'sharedcare',
      for: 'users',
      claims: { style: 'cis2', user: 'sub' },
    });
  });

  it('says when the config file cannot be read', () => {
    expect(() => loadConfig({ configFile: '/nonexistent/region.yaml' }, {})).toThrow(
      /cannot read config file \/nonexistent\/region.yaml/,
    );
  });
});
