/**
 * A running Sharedcare for the browser: the test kit's small region (a GP practice, a hospital, a
 * lab) plus a community and mental-health trust, council social care and a 111 service, listening
 * on a real port, loaded with the people of fixtures.ts. And the simulated clinical system that
 * opens the viewer for a user and patient.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Resource } from '@medplum/fhirtypes';
import type { Page } from 'playwright-core';
import { mintUserToken } from '../../src/access/index.ts';
import { upsertOrganisation, upsertSource } from '../../src/region/index.ts';
import { bundle } from '../fhir-data.ts';
import { postFhir } from '../http.ts';
import { startRegion, type TestRegion } from '../kit.ts';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

export interface ViewerRegion {
  r: TestRegion;
  base: string;
  load(bySource: Record<string, Resource[]>): Promise<void>;
  close(): Promise<void>;
}

export async function startViewerRegion(): Promise<ViewerRegion> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const r = await startRegion('pglite', { publicUrl: base, logLevel: 'warn' });
  await r.db.transaction(async (tx) => {
    const orgs = [
      { ods: 'RX2', name: 'Northdale Community and Mental Health Trust', kind: 'community-mental-health' },
      { ods: 'LA901', name: 'Northdale Council Adult Social Care', kind: 'social-care' },
      { ods: 'NX1', name: 'Northdale 111 and Out of Hours', kind: 'out-of-hours' },
    ];
    for (const o of orgs) await upsertOrganisation(tx, { ...o, contributes: true, views: true });
    await upsertSource(tx, { id: 'community-rx2', org: 'RX2', kind: 'fhir' });
    await upsertSource(tx, { id: 'social-care-la901', org: 'LA901', kind: 'batch' });
    await upsertSource(tx, { id: 'ooh-nx1', org: 'NX1', kind: 'fhir' });
  });
  await r.app.server.listen({ port, host: '127.0.0.1' });
  return {
    r,
    base,
    async load(bySource) {
      for (const [source, resources] of Object.entries(bySource)) {
        const res = await postFhir(r, source, bundle('batch', resources));
        if (res.status !== 200) throw new Error(`loading ${source}: ${res.text}`);
        const rejected = (res.body.entry ?? []).filter((e) => !/^2\d\d/.test(e.response?.status ?? ''));
        if (rejected.length) throw new Error(`loading ${source}: ${JSON.stringify(rejected[0])}`);
      }
    },
    close: () => r.drop(),
  };
}

export interface Clinician {
  user: string;
  org: string;
  role?: string;
  /** the user's display name, as their identity provider gives it */
  name?: string;
}

/**
 * The simulated clinical system: its user clicks "Shared Care Record" for the patient on screen.
 * It registers the launch over the back channel (POST /launch with the user's token and the NHS
 * number) and opens the viewer's launch URL in the browser, as a real clinical system does.
 */
export async function launchUrl(region: ViewerRegion, who: Clinician, nhs: string): Promise<string> {
  const res = await fetch(`${region.base}/launch`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${
        who.name
          ? await mintUserToken(region.r.config.devIssuerSecret!, {
              user: who.user,
              org: who.org,
              role: who.role ?? 'R8000',
              name: who.name,
            })
          : await region.r.userToken(who.user, who.org, who.role)
      }`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ patient: nhs }),
  });
  const body = (await res.json()) as { launch?: string; iss?: string };
  if (res.status !== 201 || !body.launch || !body.iss)
    throw new Error(`launch refused: ${JSON.stringify(body)}`);
  return `${region.base}/viewer/launch?${new URLSearchParams({ iss: body.iss, launch: body.launch })}`;
}

/** Opens the record in `page` and waits until the viewer has answered (record, refusal or notice). */
export async function openRecord(
  page: Page,
  region: ViewerRegion,
  who: Clinician,
  nhs: string,
): Promise<void> {
  await page.goto(await launchUrl(region, who, nhs));
  await page.waitForURL(`${region.base}/viewer/**`);
  await page
    .locator('[data-testid=summary], [data-testid=break-glass], [data-testid=message], [data-section]')
    .first()
    .waitFor();
}

export const GP_USER: Clinician = { user: 'dr.gp', org: 'Y90001', role: 'R8000' };
export const HOSPITAL_USER: Clinician = { user: 'dr.ward', org: 'RX1', role: 'R8000' };
