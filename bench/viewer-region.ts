/**
 * A synthetic region served for a browser: the generator's region (src/generate, as `sharedcare
 * generate`) loaded through the real ingest path into an in-memory PGlite, and the real server
 * listening on 127.0.0.1. Used by `npm run bench:viewer` and `npm run screenshots`. The typical
 * and heavy persons are the benchmark's own (bench/region.ts), seen by a clinician at their GP
 * practice; the launch is a clinical system's (POST /launch, then the viewer's launch URL).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mintUserToken } from '../src/access/index.ts';
import { createApp, type App } from '../src/app.ts';
import { loadConfig, type Config } from '../src/config/index.ts';
import { migrate, openDatabase } from '../src/db/index.ts';
import { DEFAULT_SEED } from '../src/generate/index.ts';
import { freePort } from '../test/e2e/region.ts';
import { ingestRegion } from './ingest.ts';
import { choosePersons, generateRegion, type ChosenPerson } from './region.ts';
import { note } from './stats.ts';

export interface SyntheticRegion {
  base: string;
  app: App;
  config: Config;
  persons: ChosenPerson[];
  resources: number;
  /** the clinical system's back channel: a launch URL for this user and NHS number */
  launchUrl(nhs: string, user: { user: string; org: string; role?: string; name?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startSyntheticRegion(persons = 60, seed = DEFAULT_SEED): Promise<SyntheticRegion> {
  const now = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000); // midnight UTC, as the generator
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-viewer-region-'));
  note(`generating ${persons} synthetic persons…`);
  const files = await generateRegion(dir, persons, seed, now, false);
  const db = await openDatabase({});
  await migrate(db);
  const ingest = await ingestRegion(db, files, 2000, 'viewer');
  files.remove();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = loadConfig({}, { LOG_LEVEL: 'silent', SHAREDCARE_PUBLIC_URL: base });
  const app = await createApp(config, { db });
  await app.server.listen({ port, host: '127.0.0.1' });
  note(`serving ${ingest.resources} resources at ${base}`);
  return {
    base,
    app,
    config,
    persons: choosePersons(persons, seed, now),
    resources: ingest.resources,
    async launchUrl(nhs, who) {
      const token = await mintUserToken(config.devIssuerSecret!, { role: 'R8000', ...who });
      const res = await fetch(`${base}/launch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ patient: nhs }),
      });
      const body = (await res.json()) as { launch?: string; iss?: string };
      if (!body.launch || !body.iss) throw new Error(`launch refused: ${JSON.stringify(body)}`);
      return `${base}/viewer/launch?${new URLSearchParams({ iss: body.iss, launch: body.launch })}`;
    },
    async close() {
      await app.close();
      await db.close();
    },
  };
}
