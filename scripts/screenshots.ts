/**
 * `npm run screenshots`: regenerates docs/screenshots/*.png, the viewer's main screens, from a
 * synthetic region (the generator's typical person, seen by a clinician at their GP practice) in
 * Debian's Chromium. Needs /usr/bin/chromium (scripts/ensure-chromium.mjs installs it).
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startSyntheticRegion } from '../bench/viewer-region.ts';
import { ensureViewerBuilt, HAVE_CHROMIUM, launchBrowser, NO_CHROMIUM_MESSAGE } from '../test/e2e/browser.ts';

const OUT = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));

async function main(): Promise<void> {
  if (!HAVE_CHROMIUM) {
    console.error(NO_CHROMIUM_MESSAGE);
    process.exit(1);
  }
  mkdirSync(OUT, { recursive: true });
  await ensureViewerBuilt();
  const region = await startSyntheticRegion(60);
  const browser = await launchBrowser({ width: 1366, height: 900 });
  const written: string[] = [];
  try {
    const typical = region.persons.find((p) => p.label === 'typical')!;
    const clinician = { user: 'dr.demo', org: typical.gpOrg, name: 'Dr Demo' };
    const page = await browser.context.newPage();
    const shot = async (name: string, p: Page = page) => {
      await p.waitForTimeout(150); // let the chart settle
      await p.screenshot({ path: `${OUT}${name}.png` });
      written.push(`docs/screenshots/${name}.png`);
    };
    const section = async (label: RegExp) => {
      await page.locator('nav').getByRole('link', { name: label }).click();
      await page.locator('main h2').waitFor();
    };

    await page.goto(await region.launchUrl(typical.nhsNumber, clinician));
    await page.getByTestId('summary').waitFor();
    await shot('summary');

    await section(/^Test results/);
    await page.getByLabel('Trend for a repeated test').selectOption({ index: 1 });
    await page.getByTestId('trend-chart').waitFor();
    await shot('results-trend');

    await section(/^Medications/);
    await shot('medications');

    await section(/^Encounters and appointments/);
    await shot('timeline');

    await section(/^Letters and documents/);
    const pdf = page.locator('main [data-testid=item-row]').filter({ hasText: 'PDF' }).first();
    const row = (await pdf.count()) ? pdf : page.locator('main [data-testid=item-row]').first();
    await row.getByRole('button', { name: /^Read:/ }).click();
    await page.getByTestId('document-reader').locator('pre').first().waitFor();
    await shot('letter');

    await section(/^Sources/);
    await shot('sources');

    // A clinician at the hospice, which has no relationship with this person: break glass.
    const other = await browser.context.newPage();
    await other.goto(await region.launchUrl(typical.nhsNumber, { user: 'nurse.hospice', org: 'NH901' }));
    await other.getByTestId('break-glass').waitFor();
    await shot('break-glass', other);
  } finally {
    await browser.close();
    await region.close();
  }
  console.log(`wrote ${written.join(', ')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
