/**
 * `/` without a launch: a plain page that says what this is and how to open a record, instead of
 * the viewer's SMART client failing with "No 'state' parameter found". In development it lists
 * the demo launch links (`sharedcare demo` registers the ones it prints) and how to make others;
 * in production it says to open the record from a clinical system. No patient data, no script.
 */
import type { Config } from '../config/index.ts';

export interface DevLink {
  label: string;
  url: string;
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function developmentPart(config: Config, links: DevLink[]): string {
  const list = links.length
    ? `<p>Open a demo person's record as a demo user (each link registers a fresh launch, as a clinical system would; this machine only):</p>
<ul>${links.map((l) => `<li><a href="${esc(l.url)}">${esc(l.label)}</a></li>`).join('')}</ul>`
    : '<p>No demo region is loaded on this server (<code>npm start</code> loads one).</p>';
  return `<h2>Development mode</h2>${list}
<p>Any other person and user: <code>npx sharedcare launch-url --user USER --org ODS --role R8000 --nhs NHSNUMBER</code>,
or <code>${esc(config.publicUrl)}/dev/ehr/open?user=USER&amp;org=ODS&amp;role=R8000&amp;nhs=NHSNUMBER</code>.</p>`;
}

const PRODUCTION_PART = `<h2>Opening a record</h2>
<p>Open a person's shared care record from your own clinical system, with that person on screen: it starts
Sharedcare with the patient in context (a SMART on FHIR launch), with no second sign-in. This address on its own
opens no one's record.</p>
<p>Administrators and data protection officers sign in through the region's identity provider from their own console.</p>`;

export function landingPage(config: Config, links: DevLink[]): string {
  const region = config.policy.regionName
    ? `the ${config.policy.regionName} Shared Care Record`
    : 'a Shared Care Record';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sharedcare</title>
<style>body{font-family:Arial,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#212b32}code{background:#f0f4f5;padding:0 .2em}li{margin:.3rem 0}</style>
</head><body><main>
<h1>Sharedcare</h1>
<p>This is ${esc(region)}: one read-only view of what a person's GP practice, hospitals, community and mental-health
services, out-of-hours service and social care share about them, for the health and care staff caring for that person.
Every access is recorded.</p>
${config.production ? PRODUCTION_PART : developmentPart(config, links)}
<p>For systems: the FHIR API is at <a href="/fhir/metadata">/fhir/metadata</a>.</p>
</main></body></html>`;
}
