/**
 * The viewer as a clinician reads it (issue 11, "A new user's first hour"), in a real browser: who
 * is signed in, sections a role may not see said to be so (not "0" and "none shared"), the
 * objected-to organisation named (and marked in the sources panel), when break glass ends, a
 * plain message for each launch that cannot open a record, out-of-hours reports readable in their
 * own section and an out-of-hours visit not called an A&E attendance, and day/month/year dates in
 * a browser set to a US locale.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureViewerBuilt,
  launchBrowser,
  NO_CHROMIUM_MESSAGE,
  seriousViolations,
  SKIP_BROWSER_TESTS,
  type Browser,
} from './browser.ts';
import { gpPerson, NHS, nhsNumber, noRelationshipPerson } from './fixtures.ts';
import { mainPerson } from './main-person.ts';
import { GP_USER, openRecord, startViewerRegion, type Clinician, type ViewerRegion } from './region.ts';

if (SKIP_BROWSER_TESTS) console.warn(NO_CHROMIUM_MESSAGE);

const OOH = nhsNumber(999_100_601);
const UNKNOWN = nhsNumber(999_100_701); // valid, but no source has sent anyone with it
const RECEPTIONIST: Clinician = { user: 'rec.1', org: 'Y90001', role: 'R8009', name: 'Robin Desk' };
const NAMED_GP: Clinician = { ...GP_USER, name: 'Dr Grace Hopper' };

/** A registered person whose 111 call led to a visit at the out-of-hours base (sent as EMER). */
function outOfHoursPerson(): Record<string, Resource[]> {
  const gp = gpPerson('ooh', OOH);
  return {
    'gp-riverside': gp['gp-riverside']!,
    'ooh-nx1': [
      gp['gp-riverside']![0]!,
      {
        resourceType: 'Encounter',
        id: 'ooh-visit',
        status: 'finished',
        class: { code: 'EMER', display: 'emergency' },
        type: [{ text: 'Out-of-hours base consultation' }],
        subject: { reference: 'Patient/ooh' },
        period: { start: '2025-03-02T21:10:00Z', end: '2025-03-02T21:30:00Z' },
      },
      {
        resourceType: 'Composition',
        id: 'ooh-report',
        status: 'final',
        type: { text: 'Report of clinical encounter' },
        subject: { reference: 'Patient/ooh' },
        date: '2025-03-02T19:40:00Z',
        author: [{ display: 'Northdale 111' }],
        title: 'NHS 111 call report',
        section: [
          {
            title: 'Disposition',
            text: {
              status: 'generated',
              div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Referred to the out-of-hours base</p></div>',
            },
          },
        ],
      },
    ] as Resource[],
  };
}

describe.skipIf(SKIP_BROWSER_TESTS)('the viewer as a clinician reads it', () => {
  let region: ViewerRegion;
  let browser: Browser;

  beforeAll(async () => {
    await ensureViewerBuilt();
    region = await startViewerRegion();
    await region.load(mainPerson());
    await region.load(noRelationshipPerson());
    await region.load(gpPerson('part', NHS.partlyObjected));
    await region.load(outOfHoursPerson());
    const res = await region.r.app.server.inject({
      method: 'POST',
      url: '/admin/objections',
      headers: { authorization: `Bearer ${await region.r.adminToken()}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ nhs: NHS.partlyObjected, scope: 'organisation', target: 'RX1' }),
    });
    if (res.statusCode !== 201) throw new Error(`objection not recorded: ${res.body}`);
    browser = await launchBrowser();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await region?.close();
  });

  const nav = (page: Page, name: RegExp) =>
    page.locator('nav[aria-label="Sections of the record"]').getByRole('link', { name });

  it('shows who is signed in, as what role, at which organisation', async () => {
    const page = await browser.context.newPage();
    await openRecord(page, region, NAMED_GP, NHS.main);
    const who = page.getByTestId('signed-in');
    await expect.poll(() => who.textContent()).toContain('Dr Grace Hopper');
    expect(await who.textContent()).toBe(
      'Signed in as Dr Grace Hopper · Clinical Practitioner · Riverside Surgery',
    );
    await page.close();
  });

  it('tells a receptionist which sections their role does not see, instead of "0" and "none shared"', async () => {
    const page = await browser.context.newPage();
    await openRecord(page, region, RECEPTIONIST, NHS.main);
    const problems = page.locator('[data-card=problems]');
    expect(await problems.textContent()).toContain('Not available to your role (Receptionist)');
    expect(await problems.textContent()).not.toContain('No active problems are shared');
    expect(await page.getByTestId('signed-in').textContent()).toContain('Robin Desk · Receptionist');
    const link = nav(page, /Problems and diagnoses/);
    expect(await link.textContent()).toBe('Problems and diagnosesnot for your role');
    expect(await seriousViolations(page)).toEqual([]);

    await link.click();
    await expect
      .poll(() => page.locator('main').textContent())
      .toContain('Problems and diagnoses are not available to your role (Receptionist)');
    expect(await page.locator('main [data-testid=item-row]').count()).toBe(0);

    // appointments are theirs; the rest of the section is not, and it says so
    await nav(page, /Encounters and appointments/).click();
    await expect
      .poll(() => page.getByTestId('part-for-role').textContent())
      .toContain('sees only part of this section: appointments');
    await page.close();
  });

  it('names the organisation whose data the person objected to sharing, and says so in the sources panel', async () => {
    const page = await browser.context.newPage();
    await openRecord(page, region, GP_USER, NHS.partlyObjected);
    expect(await page.locator('[data-notice=objection]').textContent()).toContain(
      'objected to sharing the data held by Northgate Hospital (RX1)',
    );
    await nav(page, /Sources/).click();
    const row = page.getByTestId('sources').locator('tr[data-ods=RX1] [data-testid=in-record]');
    await expect.poll(() => row.textContent()).toContain('the person objected to sharing');
    expect(await row.textContent()).not.toBe('Nothing');
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it('says when break-glass access ends', async () => {
    const page = await browser.context.newPage();
    await openRecord(page, region, GP_USER, NHS.noRelationship);
    await page.getByLabel('Emergency care: the person needs care now').check();
    await page.getByRole('button', { name: 'Break glass and open the record' }).click();
    await page.getByTestId('summary').waitFor();
    const { rows } = await region.r.db.query<{ expires_at: string | Date }>(
      `SELECT expires_at FROM break_glass WHERE user_id = $1 ORDER BY granted_at DESC LIMIT 1`,
      [GP_USER.user],
    );
    const ends = new Date(rows[0]!.expires_at);
    const at = ends.toLocaleTimeString('en-GB', {
      timeZone: 'Europe/London',
      hour: '2-digit',
      minute: '2-digit',
    });
    const day = ends.toLocaleDateString('en-GB', { timeZone: 'Europe/London' });
    expect(await page.locator('[data-notice=break-glass]').textContent()).toContain(
      `It ends at ${at} on ${day}`,
    );
    await page.close();
  });

  it('says plainly that no one with a valid but unknown NHS number is in the shared record', async () => {
    const page = await browser.context.newPage();
    await openRecord(page, region, GP_USER, UNKNOWN);
    const message = page.getByTestId('message');
    expect(await message.locator('h1').textContent()).toBe(
      'No one with this NHS number is in the shared care record',
    );
    expect(await message.textContent()).toContain(
      `NHS number ${UNKNOWN.slice(0, 3)} ${UNKNOWN.slice(3, 6)} ${UNKNOWN.slice(6)} does not match anyone`,
    );
    expect(await message.textContent()).not.toContain('did not name a patient');
    await page.close();
  });

  it('says plainly that an NHS number is not valid, not as a raw JSON page', async () => {
    const page = await browser.context.newPage();
    const q = new URLSearchParams({ user: 'dr.gp', org: 'Y90001', role: 'R8000', nhs: '9991234567' });
    await page.goto(`${region.base}/dev/ehr/open?${q}`);
    const status = page.locator('#launch-status');
    await expect
      .poll(() => status.textContent())
      .toContain('The NHS number is not valid: it fails the check digit');
    expect(await page.content()).not.toContain('OperationOutcome');
    expect(page.url()).not.toContain('9991234567');
    await page.close();
  });

  it('tells a user of an organisation that only contributes that it does not view the record', async () => {
    const page = await browser.context.newPage();
    await openRecord(page, region, { user: 'lab.1', org: 'LAB01', role: 'R8000' }, NHS.main);
    const message = page.getByTestId('message');
    expect(await message.locator('h1').textContent()).toBe(
      'Your organisation does not view the shared care record',
    );
    expect(await message.textContent()).toContain('Private Lab shares its records');
    expect(await page.getByTestId('break-glass').count()).toBe(0);
    expect(await page.locator('body').textContent()).not.toContain('care relationship');
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it('tells a user whose role sees no section of the record so, not that they lack a care relationship', async () => {
    const page = await browser.context.newPage();
    await openRecord(page, region, { user: 'u.9', org: 'Y90001', role: 'R9999' }, NHS.main);
    const message = page.getByTestId('message');
    expect(await message.locator('h1').textContent()).toBe(
      'Your role does not give access to the shared care record',
    );
    expect(await page.locator('body').textContent()).not.toContain('care relationship');
    await page.close();
  });

  it('reads an out-of-hours report in its own section, and does not call an out-of-hours visit an A&E attendance', async () => {
    const page = await browser.context.newPage();
    await openRecord(page, region, GP_USER, OOH);
    await nav(page, /Out of hours and 111/).click();
    await page.getByRole('button', { name: 'Read: NHS 111 call report' }).click();
    await expect
      .poll(() => page.getByTestId('document-reader').textContent())
      .toContain('Referred to the out-of-hours base');
    const visit = page
      .locator('main [data-testid=item-row]')
      .filter({ hasText: 'Out-of-hours base consultation' });
    expect(await visit.textContent()).toContain('Out-of-hours consultation');
    await nav(page, /Encounters and appointments/).click();
    const row = page
      .locator('main [data-testid=item-row]')
      .filter({ hasText: 'Out-of-hours base consultation' });
    expect(await row.textContent()).toContain('Out-of-hours consultation');
    expect(await row.textContent()).not.toContain('A&E');
    await page.close();
  });
});

describe.skipIf(SKIP_BROWSER_TESTS)('the viewer in a browser set to a US locale', () => {
  let region: ViewerRegion;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    await ensureViewerBuilt();
    region = await startViewerRegion();
    await region.load(mainPerson());
    browser = await launchBrowser({ locale: 'en-US', timezoneId: 'America/New_York' });
    page = await browser.context.newPage();
    await openRecord(page, region, GP_USER, NHS.main);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await region?.close();
  });

  it('shows dates day/month/year', async () => {
    expect(await page.evaluate(() => navigator.language)).toBe('en-US');
    const born = page.getByTestId('banner').locator('[data-fact=born] dd');
    expect(await born.textContent()).toMatch(/^14\/03\/1958 /);
    await page
      .locator('nav')
      .getByRole('link', { name: /Test results/ })
      .click();
    expect(await page.locator('main [data-testid=item-row]').filter({ hasText: '15/04/2022' }).count()).toBe(
      1,
    );
  });

  it('takes dates in the filter bar as day/month/year, and says when one is not a date', async () => {
    await page
      .locator('nav')
      .getByRole('link', { name: /Test results/ })
      .click();
    const rows = page.locator('main [data-testid=item-row]');
    const all = await rows.count();
    await page.getByLabel('Source').selectOption({ label: 'Riverside Surgery' });
    await expect.poll(() => rows.count()).toBe(3);
    // 01/06/2023 is the first of June (not 6 January): one Riverside result is later
    await page.getByLabel('From').fill('01/06/2023');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await page.getByLabel('From').inputValue()).toBe('01/06/2023');
    // a day that a month-first reading would refuse
    await page.getByLabel('From').fill('13/01/2010');
    await expect.poll(() => rows.count()).toBe(3);
    await page.getByLabel('To').fill('31/02/2024');
    await expect.poll(() => page.locator('main').textContent()).toContain('Not a date: use day/month/year');
    expect(await rows.count()).toBe(3);
    await page.getByRole('button', { name: 'Reset filters' }).click();
    await expect.poll(() => rows.count()).toBe(all);
    expect(await page.getByLabel('From').inputValue()).toBe('');
    expect(await page.getByLabel('To').inputValue()).toBe('');
  });
});
