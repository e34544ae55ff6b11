/**
 * A real browser for the viewer's end-to-end tests, screenshots and benchmark: Debian's Chromium
 * (installed by scripts/ensure-chromium.mjs, the pretest script) driven by playwright-core, with a
 * fresh profile each time. Also builds the viewer if viewer/dist is missing or older than its
 * sources, so the tests always exercise the current code.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.SHAREDCARE_CHROMIUM ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
/**
 * Skip the browser tests only on a developer's machine without Chromium. In CI
 * (SHAREDCARE_REQUIRE_CHROMIUM, set by .ci/run) they run, and fail if it is missing.
 */
export const SKIP_BROWSER_TESTS = !HAVE_CHROMIUM && !process.env.SHAREDCARE_REQUIRE_CHROMIUM;
export const NO_CHROMIUM_MESSAGE =
  `[viewer e2e] ${CHROMIUM} is missing: the viewer's end-to-end tests are SKIPPED. ` +
  "Install Debian's Chromium with `node scripts/ensure-chromium.mjs` as root (it runs " +
  '`apt-get update && apt-get install -y chromium`), or set SHAREDCARE_CHROMIUM.';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a fresh user data dir, removed on close. */
export async function launchBrowser(
  opts: { width?: number; height?: number; locale?: string; timezoneId?: string } = {},
): Promise<Browser> {
  if (!HAVE_CHROMIUM) throw new Error(NO_CHROMIUM_MESSAGE.replace('are SKIPPED', 'cannot run'));
  const profile = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: opts.width ?? 1366, height: opts.height ?? 900 },
    locale: opts.locale ?? 'en-GB',
    timezoneId: opts.timezoneId ?? 'Europe/London',
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const VIEWER = fileURLToPath(new URL('../../viewer/', import.meta.url));
const LOCK = path.join(os.tmpdir(), 'sharedcare-viewer-build.lock');

function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, name.name);
    t = Math.max(t, name.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function stale(): boolean {
  const built = path.join(VIEWER, 'dist', 'index.html');
  if (!existsSync(built) || !existsSync(path.join(VIEWER, 'dist', 'launch.html'))) return true;
  const sources = Math.max(
    newest(path.join(VIEWER, 'src')),
    ...['index.html', 'launch.html', 'vite.config.ts'].map((f) => statSync(path.join(VIEWER, f)).mtimeMs),
  );
  return sources > statSync(built).mtimeMs;
}

/** Builds the viewer (vite) when its build is missing or stale; test files may call it at once. */
export async function ensureViewerBuilt(): Promise<void> {
  if (!stale()) return;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // another test file is building: wait for it (and break a lock left by a killed run)
      if (existsSync(LOCK) && Date.now() - statSync(LOCK).mtimeMs > 180_000)
        rmSync(LOCK, { recursive: true });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (!stale()) return;
    const { build } = await import('vite');
    // vitest sets NODE_ENV=test, which would give a development React: build as `npm run build:viewer` does
    const env = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({ configFile: path.join(VIEWER, 'vite.config.ts'), mode: 'production', logLevel: 'warn' });
    } finally {
      process.env.NODE_ENV = env;
    }
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** axe-core's serious and critical findings on the page as it is now, one line each. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}
