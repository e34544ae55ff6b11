/**
 * A new user's first hour: `sharedcare demo` (what `npm start` runs) on a port of its choosing
 * prints follow-up commands, and each of them, run exactly as printed from another shell, finds
 * that server and succeeds. The printed base URL, opened without a launch, says what the page is
 * and lists the demo launch links.
 */
import { exec, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.ts';
import { landingPage } from '../src/api/landing.ts';
import { ensureViewerBuilt, launchBrowser, NO_CHROMIUM_MESSAGE, SKIP_BROWSER_TESTS } from './e2e/browser.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin', 'sharedcare.js');

let dir: string;
let env: NodeJS.ProcessEnv;
let demo: ChildProcess;
let printed = '';
let base: string;

/** Runs one printed command line in a shell, as a user pasting it would. */
function shell(line: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    exec(line, { cwd: ROOT, env, timeout: 180_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    ),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-first-hour-'));
  env = {
    ...process.env,
    SHAREDCARE_DATA_DIR: path.join(dir, 'data'),
    NODE_ENV: 'development',
    LOG_LEVEL: 'silent',
  };
  // nothing tells the follow-up commands where the server is but the server itself
  for (const k of ['DATABASE_URL', 'SHAREDCARE_CONFIG', 'PORT', 'SHAREDCARE_PUBLIC_URL', 'SHAREDCARE_HOST'])
    delete env[k];
  if (!SKIP_BROWSER_TESTS) await ensureViewerBuilt(); // the server serves the current viewer
  demo = spawn(process.execPath, [BIN, 'demo', '--port', '0', '--mllp-port', '0', '--persons', '3'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  demo.stderr!.on('data', (d: Buffer) => (printed += d.toString()));
  const deadline = Date.now() + 400_000;
  while (!/What to try next:[\s\S]*operators:.*\n/.test(printed)) {
    if (demo.exitCode !== null) throw new Error(`demo exited: ${printed}`);
    if (Date.now() > deadline) throw new Error(`demo did not start: ${printed}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  base = /Sharedcare demo region is running at (\S+)/.exec(printed)![1]!;
}, 420_000);

afterAll(async () => {
  if (demo && demo.exitCode === null) {
    demo.kill('SIGTERM');
    await new Promise((r) => demo.once('exit', r));
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('npm start on a port of its own', () => {
  it('listens on the port it chose and prints that address, not 8080', () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(base).not.toMatch(/:(0|8080)$/);
    expect(printed).not.toMatch(/127\.0\.0\.1:8080/);
  });

  it('every follow-up command it prints works, run exactly as printed', async () => {
    const commands = printed
      .split('\n')
      .map((l) => /(npx sharedcare .*)$/.exec(l)?.[1])
      .filter((c): c is string => !!c && !/ U --org ODS /.test(c)); // the token line is a template
    expect(commands.map((c) => c.split(' ').slice(2, 4).join(' '))).toEqual(
      expect.arrayContaining(['launch-url --user', 'objection add', 'audit verify']),
    );
    for (const command of commands) {
      const r = await shell(command);
      expect(r.stderr, command).not.toMatch(/fetch failed/);
      expect(r.code, `${command}\n${r.stderr}`).toBe(0);
      if (command.includes('launch-url'))
        expect(r.stdout.trim()).toMatch(new RegExp(`^${base}/viewer/launch\\?iss=`));
      if (command.includes('audit verify')) expect(r.stdout).toMatch(/^Audit chain intact/);
      if (command.includes('objection add')) expect(JSON.parse(r.stdout)).toMatchObject({ scope: 'record' });
    }
  }, 600_000);

  it('the launch URL printed by launch-url opens in the viewer through the server that printed it', async () => {
    const r = await shell(
      `npx sharedcare launch-url --user dr.demo --org Y90001 --role R8000 --nhs ${/--nhs (\d{10})/.exec(printed)![1]}`,
    );
    expect(r.code, r.stderr).toBe(0);
    const res = await fetch(r.stdout.trim());
    expect(res.status).toBe(200);
  }, 180_000);

  it('says exactly what to pass when the server cannot be found', async () => {
    const r = await shell(
      'npx sharedcare launch-url --user dr.demo --org Y90001 --role R8000 --nhs 9990000018 --server http://127.0.0.1:9',
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no Sharedcare server answers at http:\/\/127\.0\.0\.1:9: .*pass --server URL/);
  }, 180_000);

  it('its base URL, opened without a launch, says what the page is and lists the demo launch links', async () => {
    const res = await fetch(`${base}/`, { redirect: 'manual' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toMatch(/read-only view/);
    expect(html).toMatch(/Development mode/);
    const printedLinks = [...printed.matchAll(/^ {4}(http\S+\/dev\/ehr\/open\?\S+)$/gm)].map((m) => m[1]!);
    expect(printedLinks.length).toBeGreaterThanOrEqual(3);
    for (const link of printedLinks) expect(html).toContain(link.replaceAll('&', '&amp;'));
    expect(html).not.toMatch(/state' parameter/);
  }, 60_000);

  it.skipIf(SKIP_BROWSER_TESTS)(
    'in a browser, the viewer opened without a launch shows that page, and a demo link there opens a record',
    async () => {
      const browser = await launchBrowser();
      try {
        const page = await browser.context.newPage();
        await page.goto(`${base}/viewer/`);
        await page.waitForURL(`${base}/`);
        expect(await page.locator('h1').textContent()).toBe('Sharedcare');
        expect(await page.locator('body').textContent()).not.toMatch(/state' parameter/);
        const links = page.locator('a[href*="/dev/ehr/open"]');
        expect(await links.count()).toBeGreaterThanOrEqual(3);
        await links.first().click();
        await page.waitForURL((u) => u.pathname === '/viewer/', { timeout: 60_000 });
        await page.waitForTimeout(2000);
        expect(new URL(page.url()).pathname).toBe('/viewer/');
        expect(await page.locator('body').textContent()).not.toMatch(
          /This address on its own|state' parameter/,
        );
      } finally {
        await browser.close();
      }
    },
    180_000,
  );

  it('forgets where it was once it stops', async () => {
    const announced = path.join(dir, 'data', 'sharedcare.server');
    expect(existsSync(announced)).toBe(true);
    demo.kill('SIGTERM');
    await new Promise((r) => (demo.exitCode !== null ? r(undefined) : demo.once('exit', r)));
    expect(existsSync(announced)).toBe(false);
  }, 60_000);
});

describe('the landing page in production mode', () => {
  it('says to open the record from a clinical system and lists no demo links', () => {
    if (SKIP_BROWSER_TESTS) console.warn(NO_CHROMIUM_MESSAGE);
    const config = { ...loadConfig({}, { NODE_ENV: 'test' }), production: true };
    const html = landingPage(config, [{ label: 'demo', url: 'http://127.0.0.1/dev/ehr/open?user=x' }]);
    expect(html).toMatch(/from your own clinical system/);
    expect(html).not.toMatch(/dev\/ehr\/open|Development mode|launch-url/);
  });
});
