/**
 * The clinician's viewer in a real browser (Debian's Chromium driven by playwright-core), against
 * a real server: launch in context from a simulated clinical system, the banner, every section
 * with its sources and dates, a filter and its reset, a document (PDF included), the trend chart,
 * "Copy reference", keyboard use, print showing a notice instead of the record, and axe-core.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureViewerBuilt,
  launchBrowser,
  NO_CHROMIUM_MESSAGE,
  SKIP_BROWSER_TESTS,
  type Browser,
} from './browser.ts';
import { heavyPerson, NHS } from './fixtures.ts';
import { mainPerson } from './main-person.ts';
import { GP_USER, launchUrl, openRecord, startViewerRegion, type ViewerRegion } from './region.ts';
import { upsertOrganisation } from '../../src/region/index.ts';
import { postFhir } from '../http.ts';

if (SKIP_BROWSER_TESTS) console.warn(NO_CHROMIUM_MESSAGE);

const spaced = (nhs: string) => `${nhs.slice(0, 3)} ${nhs.slice(3, 6)} ${nhs.slice(6)}`;
const today = () => new Date().toLocaleDateString('en-GB', { timeZone: 'Europe/London' });

describe.skipIf(SKIP_BROWSER_TESTS)('the viewer in Chromium', () => {
  let region: ViewerRegion;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    await ensureViewerBuilt();
    region = await startViewerRegion();
    await region.load(mainPerson());
    await region.load(heavyPerson());
    // the out-of-hours service has declared its data set; the others have not
    await upsertOrganisation(region.r.db, {
      ods: 'NX1',
      name: 'Northdale 111 and Out of Hours',
      kind: 'out-of-hours',
      contributes: true,
      views: true,
      dataSet: { categories: ['NHS 111 calls', 'Out-of-hours consultations'], from: '2021-10-01' },
    });
    browser = await launchBrowser();
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: region.base });
    page = await browser.context.newPage();
    await openRecord(page, region, GP_USER, NHS.main);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await region?.close();
  });

  async function show(section: string): Promise<void> {
    await page
      .locator('nav[aria-label="Sections of the record"]')
      .getByRole('link', { name: section })
      .click();
    await expect.poll(() => page.locator('main h2').textContent()).toBe(section);
  }
  const rows = () => page.locator('main [data-testid=item-row]');
  const rowWith = (text: string) => rows().filter({ hasText: text });

  it('opens in context from the clinical system, with no second sign-in and no NHS number in any URL', async () => {
    const fresh = await browser.context.newPage();
    const urls: string[] = [];
    fresh.on('request', (r) => urls.push(r.url()));
    await fresh.goto(await launchUrl(region, GP_USER, NHS.main));
    await fresh.getByTestId('summary').waitFor();
    expect(new URL(fresh.url()).pathname).toBe('/viewer/');
    expect(fresh.url()).not.toContain('code='); // the SMART client tidies the address bar
    expect(urls.some((u) => u.includes('/oauth/authorize'))).toBe(true);
    expect(urls.join(' ')).not.toContain(NHS.main);
    // nothing kept beyond the session: the SMART state is in sessionStorage, nothing in localStorage
    const stored = await fresh.evaluate(() => ({
      local: localStorage.length,
      session: sessionStorage.length,
    }));
    expect(stored).toEqual({ local: 0, session: expect.any(Number) });
    expect(stored.session).toBeGreaterThan(0);
    await fresh.close();
  });

  it('opens from the development clinical system route (sharedcare demo links)', async () => {
    const fresh = await browser.context.newPage();
    const q = new URLSearchParams({ user: 'dr.gp', org: 'Y90001', role: 'R8000', nhs: NHS.main });
    await fresh.goto(`${region.base}/dev/ehr/open?${q}`);
    await expect.poll(() => fresh.getByTestId('banner').textContent()).toContain(spaced(NHS.main));
    await fresh.close();
  });

  it('shows the patient banner and the record’s notices', async () => {
    const banner = page.getByTestId('banner');
    await expect.poll(() => banner.locator('h1').textContent()).toBe('TESTPERSON, Alex Jordan (Ms)');
    const fact = async (id: string) => banner.locator(`[data-fact=${id}] dd`).textContent();
    expect(await fact('nhs-number')).toBe(spaced(NHS.main));
    expect(await fact('born')).toMatch(/^14\/03\/1958 \(\d+ years\)$/);
    expect(await fact('gender')).toBe('Female');
    expect(await fact('address')).toBe('1 Test Street, Northdale, ND1 1AA');
    expect(await fact('telephone')).toBe('0113 496 0000');
    expect(await fact('gp')).toBe('Riverside Surgery (Y90001)');
    expect(await fact('usual-gp')).toBe('Dr Priya Shah');
    expect(await page.locator('[data-notice=not-full-record]').textContent()).toContain(
      'not the full record',
    );
  });

  it('summarises the record: active problems, current medicines, allergies, latest results, contacts', async () => {
    const summary = page.getByTestId('summary');
    const text = (await summary.textContent()) ?? '';
    for (const t of [
      'Type 2 diabetes mellitus',
      'Metformin 500mg tablets',
      'Penicillin',
      'HbA1c',
      'Diabetes review',
    ])
      expect(text).toContain(t);
    expect(text).not.toContain('Amoxicillin'); // a past medicine
  });

  it.each([
    ['Problems and diagnoses', 'Type 2 diabetes mellitus', 'Riverside Surgery', '10/02/2018'],
    ['Medications', 'Amoxicillin 500mg capsules', 'Riverside Surgery', '02/11/2019'],
    ['Allergies and reactions', 'Penicillin', 'Northgate Hospital', '01/06/2024'],
    ['Test results', 'HbA1c', 'Northgate Hospital', '01/03/2025'],
    ['Encounters and appointments', 'Hospital admission', 'Northgate Hospital', '01/06/2024'],
    ['Referrals', 'Referral to Cardiology clinic', 'Riverside Surgery', '10/01/2025'],
    ['Letters and documents', 'Inpatient discharge summary', 'Northgate Hospital', '05/06/2024'],
    ['Immunisations', 'Influenza vaccine', 'Riverside Surgery', '01/10/2025'],
    [
      'Care plans',
      'Community Mental Health Team care plan',
      'Northdale Community and Mental Health Trust',
      '01/02/2025',
    ],
    ['Social care', 'Home care', 'Northdale Council Adult Social Care', '10/07/2024'],
    ['Mental health', 'Depressive disorder', 'Northdale Community and Mental Health Trust', '01/02/2025'],
    ['Out of hours and 111', 'NHS 111 telephone triage', 'Northdale 111 and Out of Hours', '20/04/2025'],
  ])('%s: each item with its source and date', async (section, item, org, date) => {
    await show(section);
    const row = rowWith(item).filter({ hasText: date }).first();
    expect(await row.textContent()).toContain(org);
  });

  it('shows what the server reconciled: each thing once, with every source, and conflicts', async () => {
    await show('Problems and diagnoses');
    const htn = rowWith('Hypertension');
    expect(await htn.count()).toBe(1);
    const htnText = await htn.textContent();
    expect(htnText).toContain('Riverside Surgery');
    expect(htnText).toContain('Northgate Hospital');
    expect(htnText).toContain('Conflict');
    expect(htnText).toContain('status: resolved (Northgate Hospital) vs active (Riverside Surgery)');
    await show('Medications');
    expect(await rowWith('Ramipril 5mg capsules').textContent()).toContain(
      'dose: Two capsules once a day (Northgate Hospital) vs One capsule once a day (Riverside Surgery)',
    );
    await show('Test results');
    const copies = rowWith('15/04/2022');
    expect(await copies.count()).toBe(1);
    expect(await copies.locator('[data-ods]').count()).toBe(2);
  });

  it('shows one discharge summary held by the GP and the hospital once, with both sources and both copies', async () => {
    await show('Letters and documents');
    const letter = rowWith('Inpatient discharge summary');
    expect(await letter.count()).toBe(1);
    expect(
      await letter.locator('[data-ods]').evaluateAll((tags) => tags.map((t) => t.textContent).sort()),
    ).toEqual(['Northgate Hospital', 'Riverside Surgery']);
    expect(await letter.textContent()).not.toContain('Conflict');
    await letter.getByRole('button', { name: 'Show 2 entries' }).click();
    const copies = page.locator('main tr.sc-row--child');
    expect(await copies.count()).toBe(2);
    for (const ods of ['RX1', 'Y90001']) {
      const copy = copies.filter({ has: page.locator(`[data-ods=${ods}]`) });
      expect(await copy.textContent()).toContain('05/06/2024');
      expect(await copy.textContent()).toContain('Inpatient discharge summary');
    }
    await letter.getByRole('button', { name: 'Hide 2 entries' }).click();
  });

  it('shows an allergy the GP records and the hospital refuted as a conflict, not as agreement', async () => {
    await show('Allergies and reactions');
    const ibuprofen = rowWith('Ibuprofen');
    expect(await ibuprofen.count()).toBe(1);
    expect(await ibuprofen.getAttribute('class')).toContain('sc-row--conflict');
    const text = await ibuprofen.textContent();
    expect(text).toContain('Conflict');
    expect(text).toContain(
      'whether it is an allergy: refuted (Northgate Hospital) vs confirmed (Riverside Surgery)',
    );
    // and on the summary, where a clinician looks first
    await show('Summary');
    const card = page.locator('[data-card=allergies]');
    expect(await card.locator('tr', { hasText: 'Ibuprofen' }).textContent()).toContain('Conflict');
  });

  it('says with the record how current each of its sources is', async () => {
    await show('Summary');
    const line = page.getByTestId('currency');
    expect(await line.locator('[data-source=gp-riverside]').textContent()).toMatch(
      /Riverside Surgery \(live\): last sent \d\d\/\d\d\/\d{4} \d\d:\d\d, this record updated \d\d\/\d\d\/\d{4}/,
    );
    expect(await line.textContent()).toContain('Northgate Hospital (live): last sent');
  });

  it('shows the sources: what each organisation shares and how current its feed is', async () => {
    await show('Sources');
    const table = page.getByTestId('sources');
    expect(await table.locator('tr[data-ods=LA901]').textContent()).toMatch(
      /Batch: last batch received \d\d\/\d\d\/\d{4}/,
    );
    expect(await table.locator('tr[data-ods=Y90001]').textContent()).toMatch(/Live: last update received/);
    expect(await table.locator('tr[data-ods=RX1]').textContent()).toContain('8 items');
    expect(await table.locator('tr[data-ods=LAB01]').textContent()).toContain('nothing received yet');
    // what an organisation declared it shares, from when; otherwise what its kind usually shares
    const ooh = await table.locator('tr[data-ods=NX1]').textContent();
    expect(ooh).toContain('NHS 111 calls; Out-of-hours consultations');
    expect(ooh).toContain('from 01/10/2021');
    expect(ooh).not.toContain('usually shares');
    expect(await table.locator('tr[data-ods=LA901]').textContent()).toContain(
      'what this kind of organisation usually shares',
    );
  });

  it('filters a section by source and date, and "Reset filters" shows everything again', async () => {
    await show('Test results');
    const all = await rows().count();
    await page.getByLabel('Source').selectOption({ label: 'Riverside Surgery' });
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'Showing' }).textContent())
      .toMatch(/Showing 3 of 5/);
    expect(await rows().count()).toBe(3);
    await page.getByLabel('From').fill('01/06/2023');
    await expect.poll(() => rows().count()).toBe(1);
    await page.getByRole('button', { name: 'Reset filters' }).click();
    await expect.poll(() => rows().count()).toBe(all);
    expect(await page.getByLabel('Source').inputValue()).toBe('');
  });

  it('reads a letter in the page, PDF included, with no download or print button; each opened document is audited as a view', async () => {
    const views = async () =>
      (
        await region.r.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM audit_event WHERE action = 'document.view' AND user_id = $1`,
          [GP_USER.user],
        )
      ).rows[0]!.n;
    const before = await views();
    await show('Letters and documents');
    await page.getByRole('button', { name: 'Read: Inpatient discharge summary' }).click();
    const reader = page.getByTestId('document-reader');
    await expect.poll(() => reader.textContent()).toContain('Admitted with community-acquired pneumonia.');
    expect(await reader.textContent()).toContain('PDF document, shown as text');
    await page.getByRole('button', { name: 'Read: NHS 111 call report' }).click();
    await expect
      .poll(() => reader.textContent())
      .toContain('Advised to contact own GP practice within 24 hours');
    expect(await views()).toBe(before + 2);
    expect(
      await page.locator('a[download], a[href^="blob:"], a[href^="data:"], iframe, embed, object').count(),
    ).toBe(0);
    expect(await page.getByRole('button', { name: /download|export|print/i }).count()).toBe(0);
  });

  it('draws a trend chart for a repeated numeric test, with its values as a table', async () => {
    await show('Test results');
    await rowWith('01/03/2025').getByRole('button', { name: 'Trend' }).click();
    const chart = page.getByTestId('trend-chart');
    await chart.waitFor();
    expect(await chart.locator('figcaption').textContent()).toContain(
      'HbA1c (mmol/mol), 4 results; reference range 20–41',
    );
    // five results, two of them copies of one (lab and GP): four points
    expect(await chart.locator('svg .recharts-line-dots .recharts-dot').count()).toBe(4);
    await chart.getByText('Values as a table').click();
    expect(await chart.locator('tbody tr').count()).toBe(4);
  });

  it('copies a reference for the clinician’s own notes', async () => {
    await show('Test results');
    await rowWith('01/03/2025')
      .getByRole('button', { name: /^Copy reference/ })
      .click();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(
      `HbA1c 46 mmol/mol, Northgate Hospital, 01/03/2025, viewed on the Shared Care Record ${today()}`,
    );
  });

  it('is usable from the keyboard: the sections are links, and the chosen section takes the focus', async () => {
    await page.goto(`${region.base}/viewer/#summary`);
    await page.reload();
    await page.getByTestId('summary').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to the record');
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate(() => document.activeElement?.textContent)) === 'Referrals1') break;
    }
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Referrals');
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('H2');
  });

  it('prints a notice, never the record', async () => {
    await page.emulateMedia({ media: 'print' });
    try {
      expect(await page.locator('.print-notice').isVisible()).toBe(true);
      expect(await page.locator('#root').isVisible()).toBe(false);
      expect(await page.locator('.print-notice').textContent()).toContain('cannot be printed');
    } finally {
      await page.emulateMedia({ media: 'screen' });
    }
  });

  it.each(['Summary', 'Test results', 'Letters and documents', 'Encounters and appointments', 'Sources'])(
    'axe-core finds no serious or critical accessibility violations: %s',
    async (section) => {
      await show(section);
      if (section === 'Test results') await rows().first().getByRole('button', { name: 'Trend' }).click();
      if (section === 'Letters and documents')
        await page
          .getByRole('button', { name: /^Read:/ })
          .first()
          .click();
      const { violations } = await new AxeBuilder({ page }).analyze();
      const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(
        serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
      ).toEqual([]);
    },
  );

  it('says so when a document was withdrawn by its source after the record was opened', async () => {
    await show('Letters and documents');
    const res = await postFhir(region.r, 'ooh-nx1', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [{ request: { method: 'DELETE', url: 'Composition/o-rep' } }],
    });
    expect(res.status).toBe(200);
    await page.getByRole('button', { name: 'Read: NHS 111 call report' }).click();
    const reader = page.getByTestId('document-reader');
    await expect.poll(() => reader.textContent()).toContain('no longer in the shared record');
    expect(await reader.textContent()).not.toContain('Advised to contact own GP practice');
    const { rows } = await region.r.db.query<{ outcome: string }>(
      `SELECT outcome FROM audit_event WHERE action = 'document.view' AND user_id = $1 ORDER BY seq DESC LIMIT 1`,
      [GP_USER.user],
    );
    expect(rows[0]?.outcome).toBe('error');
  });

  it('stays usable for a heavy record: thousands of items, shown a page at a time', async () => {
    const heavy = await browser.context.newPage();
    await openRecord(heavy, region, GP_USER, NHS.heavy);
    await heavy
      .locator('nav')
      .getByRole('link', { name: /Test results/ })
      .click();
    expect(await heavy.locator('nav a[href="#results"]').textContent()).toContain('3,000');
    await expect.poll(() => heavy.locator('main [data-testid=item-row]').count()).toBe(100);
    await heavy.getByRole('button', { name: /Show 100 more \(2,900 not shown\)/ }).click();
    await expect.poll(() => heavy.locator('main [data-testid=item-row]').count()).toBe(200);
    await heavy.getByLabel('Trend for a repeated test').selectOption({ index: 1 });
    await heavy.getByTestId('trend-chart').waitFor();
    await heavy.close();
  });
});
