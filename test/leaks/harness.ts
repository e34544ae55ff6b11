/**
 * A running Sharedcare for the leak property: a fresh database (PGlite or PostgreSQL) with the
 * catalogue's organisations and sources, the app built as src/app.ts builds it (the test code list
 * beside the national one), tokens from the development issuer, and requests through Fastify's
 * inject (no socket).
 */
import { mintSourceToken, mintUserToken } from '../../src/access/index.ts';
import { createApp, type App } from '../../src/app.ts';
import { upsertOrganisation, upsertSource } from '../../src/region/index.ts';
import { freshDatabase, testConfig, type DbKind } from '../kit.ts';
import { ORGS, SOURCES, writeRegionCodeList } from './catalogue.ts';

export interface Harness {
  kind: DbKind;
  app: App;
  adminToken: string;
  dpoToken: string;
  mint(user: string, org: string, role: string, patient?: string): Promise<string>;
  call(
    method: 'GET' | 'POST',
    url: string,
    token: string,
    payload?: unknown,
  ): Promise<{ status: number; text: string }>;
  drop(): Promise<void>;
}

export async function startHarness(kind: DbKind): Promise<Harness> {
  const fresh = await freshDatabase(kind);
  const config = testConfig({
    sensitiveCodeLists: [...testConfig().sensitiveCodeLists, writeRegionCodeList()],
  });
  await fresh.db.transaction(async (tx) => {
    for (const o of ORGS)
      await upsertOrganisation(tx, {
        ods: o.ods,
        name: o.name,
        kind: o.kind,
        contributes: o.contributes,
        views: o.views,
      });
    for (const s of SOURCES) await upsertSource(tx, { id: s.id, org: s.org.ods, kind: 'fhir' });
  });
  const app = await createApp(config, { db: fresh.db });
  const secret = config.devIssuerSecret!;
  const mint = (user: string, org: string, role: string, patient?: string) =>
    mintUserToken(secret, { user, org, role, ...(patient ? { patient } : {}) });
  const sourceTokens = new Map<string, string>();
  for (const s of SOURCES) sourceTokens.set(s.id, await mintSourceToken(secret, s.id));
  const call: Harness['call'] = async (method, url, token, payload) => {
    const res = await app.server.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${sourceTokens.get(token) ?? token}`,
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    });
    return { status: res.statusCode, text: res.body };
  };
  return {
    kind,
    app,
    adminToken: await mint('leaks.admin', 'Y90001', 'sharedcare-admin'),
    dpoToken: await mint('leaks.dpo', 'Y90001', 'sharedcare-dpo'),
    mint,
    call,
    async drop() {
      await app.close();
      await fresh.drop();
    },
  };
}
