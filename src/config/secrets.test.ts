import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEV_SECRET_DEFAULT, loadConfig, productionProblems } from './index.ts';
import { estimateEntropyBits } from './secrets.ts';

// A random-looking value that is published: it is written here, in a file of the project.
const PUBLISHED = 'Qm9vdHN0cmFwLXNlY3JldC1mcm9tLXRoZS1kb2NzLTIwMjYtMTItMDU';

function productionConfig(env: NodeJS.ProcessEnv, yaml = ''): ReturnType<typeof loadConfig> {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'cfg-')), 'prod.yaml');
  writeFileSync(
    file,
    `identityProviders:\n  - { issuer: "https://idp.example.nhs.uk", claims: { style: cis2 } ${yaml} }\n`,
  );
  return loadConfig(
    { production: true, configFile: file },
    { DATABASE_URL: 'postgres://db/sharedcare', SHAREDCARE_DB_ROLE: 'sharedcare_app', ...env },
  );
}

const sessionProblems = (env: NodeJS.ProcessEnv) =>
  productionProblems(productionConfig(env)).filter((p) => p.includes('SHAREDCARE_SESSION_SECRET'));

describe('secrets in production', () => {
  it.each([
    ['unset', undefined, /not set/],
    ['one character', 'x', /too weak/],
    ['the development default', DEV_SECRET_DEFAULT, /published/],
    ['the development session default', `${DEV_SECRET_DEFAULT}-session`, /published/],
    [
      'a value that appears in the project',
      PUBLISHED,
      /published \(it appears in src\/config\/secrets\.test\.ts\)/,
    ],
    ['a repeated character', 'a'.repeat(64), /too weak/],
    ['a repeated block', 'abcdef0123456789'.repeat(4), /too weak/],
    ['a repeated word', 'password'.repeat(8), /too weak/],
  ])('refuse a session secret that is %s', (_what, value, why) => {
    const problems = sessionProblems(value === undefined ? {} : { SHAREDCARE_SESSION_SECRET: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(why);
    expect(problems[0]).toMatch(/openssl rand/);
  });

  it.each([
    ['base64', () => randomBytes(32).toString('base64')],
    ['base64url', () => randomBytes(32).toString('base64url')],
    ['hex', () => randomBytes(32).toString('hex')],
  ])('accept a freshly generated %s secret', (_what, make) => {
    for (let i = 0; i < 20; i++) expect(sessionProblems({ SHAREDCARE_SESSION_SECRET: make() })).toEqual([]);
  });

  it('check every secret the configuration holds, listing all problems at once', () => {
    const problems = productionProblems(
      productionConfig(
        {
          SHAREDCARE_SESSION_SECRET: 'x',
          DATABASE_URL: 'postgres://sharedcare:postgres@db/sharedcare',
        },
        `, signIn: { clientId: sharedcare, clientSecret: "${PUBLISHED}" }`,
      ),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^SHAREDCARE_SESSION_SECRET is too weak/),
      expect.stringMatching(/^the password in DATABASE_URL is too weak/),
      expect.stringMatching(
        /^identityProviders\[0\]\.signIn\.clientSecret \(https:\/\/idp\.example\.nhs\.uk\) is published/,
      ),
    ]);
  });

  it('refuse an audit signing key that is published', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'key-'));
    const keyFile = path.join(dir, 'key.jwk');
    writeFileSync(keyFile, JSON.stringify({ kty: 'OKP', crv: 'Ed25519', d: PUBLISHED, x: 'x' }));
    const problems = productionProblems(
      productionConfig({
        SHAREDCARE_SESSION_SECRET: randomBytes(32).toString('base64'),
        SHAREDCARE_AUDIT_KEY_FILE: keyFile,
      }),
    );
    expect(problems).toEqual([expect.stringMatching(/audit signing key .* is published/)]);
  });

  it('estimate entropy from the alphabet and how well the value compresses', () => {
    expect(estimateEntropyBits('')).toBe(0);
    expect(estimateEntropyBits(randomBytes(32).toString('hex'))).toBeGreaterThanOrEqual(256);
    expect(estimateEntropyBits('0'.repeat(1000))).toBeLessThan(100);
  });
});
