#!/usr/bin/env node
/* global process, console */
// Run by `npm test` (the pretest script): the viewer's end-to-end tests drive Debian's Chromium
// (/usr/bin/chromium) with playwright-core. When it is missing, install it from Debian's packages
// if we are root; otherwise say exactly what to run. A failed install fails the run. Where Chromium
// cannot be installed (not root, no apt) a developer's run goes on and the end-to-end tests skip
// with a message; CI (SHAREDCARE_REQUIRE_CHROMIUM, set by .ci/run) fails instead, so that a green CI
// always means the browser tests ran.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const CHROMIUM = process.env.SHAREDCARE_CHROMIUM ?? '/usr/bin/chromium';
const COMMAND = 'apt-get update && apt-get install -y chromium';
const REQUIRED = !!process.env.SHAREDCARE_REQUIRE_CHROMIUM;

if (existsSync(CHROMIUM)) process.exit(0);


const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = existsSync('/usr/bin/apt-get');
if (!isRoot || !hasApt) {
  console.warn(
    `[ensure-chromium] ${CHROMIUM} is missing, so the viewer's end-to-end tests will be skipped.\n` +
      (hasApt
        ? `  To run them, install Debian's Chromium:  sudo sh -c '${COMMAND}'`
        : '  To run them, install Chromium from your system packages (Debian: apt-get install chromium)\n' +
          '  and point SHAREDCARE_CHROMIUM at it if it is not /usr/bin/chromium.'),
  );
  process.exit(REQUIRED ? 1 : 0);
}

console.log(`[ensure-chromium] ${CHROMIUM} is missing: installing Debian's chromium package (${COMMAND})…`);
const run = spawnSync('sh', ['-c', COMMAND], {
  stdio: 'inherit',
  env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
});
if (run.status !== 0 || !existsSync(CHROMIUM)) {
  console.warn(
    `[ensure-chromium] installing chromium failed (exit ${run.status}): fix the package install, or run\n` +
      `  the tests without the browser by installing nothing and running vitest directly (they will be skipped).`,
  );
  process.exit(1);
}
console.log(`[ensure-chromium] installed ${CHROMIUM}.`);
