/**
 * What the viewer shows when access is limited, in a real browser: no care relationship (break
 * glass, then a persistent notice), a whole-record objection, an objection to one organisation's
 * data, and a restricted person (no address or telephone in the banner).
 */
import { AxeBuilder } from '@axe-core/playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureViewerBuilt,
  launchBrowser,
  NO_CHROMIUM_MESSAGE,
  SKIP_BROWSER_TESTS,
  type Browser,
} from './browser.ts';
import { gpPerson, NHS, noRelationshipPerson } from './fixtures.ts';
import { GP_USER, openRecord, startViewerRegion, type ViewerRegion } from './region.ts';

if (SKIP_BROWSER_TESTS) console.warn(NO_CHROMIUM_MESSAGE);

const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';

describe.skipIf(SKIP_BROWSER_TESTS)('the viewer when access is limited', () => {
  let region: ViewerRegion;
  let browser: Browser;

  async function object(nhs: string, scope: 'record' | 'organisation', target?: string): Promise<void> {
    const res = await region.r.app.server.inject({
      method: 'POST',
      url: '/admin/objections',
      headers: { authorization: `Bearer ${await region.r.adminToken()}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ nhs, scope, ...(target ? { target } : {}) }),
    });
    if (res.statusCode !== 201) throw new Error(`objection not recorded: ${res.body}`);
  }

  beforeAll(async () => {
    await ensureViewerBuilt();
    region = await startViewerRegion();
    await region.load(noRelationshipPerson());
    await region.load(gpPerson('obj', NHS.objected));
    await region.load(gpPerson('part', NHS.partlyObjected));
    await region.load(
      gpPerson('rst', NHS.restricted, { meta: { security: [{ system: CONFIDENTIALITY, code: 'R' }] } }),
    );
    await object(NHS.objected, 'record');
    await object(NHS.partlyObjected, 'organisation', 'RX1');
    browser = await launchBrowser();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await region?.close();
  });

  it('without a care relationship explains why and offers break glass; the record then carries a notice', async () => {
    const page = await browser.context.newPage();
    await openRecord(page, region, GP_USER, NHS.noRelationship);
    const form = page.getByTestId('break-glass');
    expect(await form.textContent()).toMatch(/break glass/i);
    expect(await page.getByTestId('banner').textContent()).toContain(NHS.noRelationship.slice(0, 3));
    const { violations } = await new AxeBuilder({ page }).analyze();
    expect(
      violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id),
    ).toEqual([]);

    // a reason is required
    await page.getByRole('button', { name: 'Break glass and open the record' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('Choose the reason');

    await page.getByLabel('Emergency care: the person needs care now').check();
    await page.getByLabel('Note (optional)').fill('Unconscious in the surgery waiting room');
    await page.getByRole('button', { name: 'Break glass and open the record' }).click();
    await page.getByTestId('summary').waitFor();
    const notice = page.locator('[data-notice=break-glass]');
    expect(await notice.textContent()).toMatch(/Break glass\..*time-limited, recorded/);
    expect(await page.getByTestId('summary').textContent()).toContain('Asthma');
    // the notice stays whatever section is shown
    await page
      .locator('nav')
      .getByRole('link', { name: /Problems and diagnoses/ })
      .click();
    expect(await notice.isVisible()).toBe(true);
    await page.close();
  });

  it('shows only that the record exists, and the objection, when the person objected to sharing it', async () => {
    const page = await browser.context.newPage();
    await openRecord(page, region, GP_USER, NHS.objected);
    expect(await page.locator('[data-notice=withheld]').textContent()).toContain(
      'objected to sharing their record',
    );
    const banner = page.getByTestId('banner');
    expect(await banner.textContent()).toContain('999 100 2');
    expect(await banner.textContent()).not.toContain('OBJ');
    expect(await page.locator('main').textContent()).toContain('nothing from it is shown');
    expect(await page.locator('main [data-testid=item-row]').count()).toBe(0);
    await page.close();
  });

  it('shows the objection to one organisation’s data, and none of that organisation’s items', async () => {
    const page = await browser.context.newPage();
    await openRecord(page, region, GP_USER, NHS.partlyObjected);
    expect(await page.locator('[data-notice=objection]').textContent()).toContain('RX1');
    await page
      .locator('nav')
      .getByRole('link', { name: /Problems and diagnoses/ })
      .click();
    const main = (await page.locator('main').textContent()) ?? '';
    expect(main).toContain('Hypertension');
    expect(main).not.toContain('Fracture of bone');
    await page.close();
  });

  it('shows no address or telephone for a restricted person', async () => {
    const page = await browser.context.newPage();
    await openRecord(page, region, GP_USER, NHS.restricted);
    const banner = page.getByTestId('banner');
    expect(await banner.locator('h1').textContent()).toContain('RST');
    expect(await banner.locator('[data-fact=address]').count()).toBe(0);
    expect(await banner.locator('[data-fact=telephone]').count()).toBe(0);
    expect(await banner.textContent()).not.toContain('1 Test Street');
    expect(await banner.textContent()).not.toContain('0113 496 0000');
    expect(await page.getByTestId('restricted').isVisible()).toBe(true);
    await page.close();
  });
});
