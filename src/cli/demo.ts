/**
 * `sharedcare demo` (and `npm start`): on an empty database, generate and load a synthetic region,
 * then serve it and print what to try.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mintSourceToken, mintUserToken } from '../access/index.ts';
import { createApp } from '../app.ts';
import type { Config } from '../config/index.ts';
import type { Database } from '../db/index.ts';
import { regionSpec, writeRegion, generatePerson } from '../generate/index.ts';
import { upsertOrganisation, upsertSource } from '../region/index.ts';
import { directBackend } from './backend.ts';
import { loadFiles } from './load.ts';
import { fixHeapGrowth, stopPretenuring } from './memory.ts';
import { listen } from './serve.ts';

export async function demo(config: Config, persons: number): Promise<void> {
  if (config.production)
    throw new Error(
      'demo loads synthetic data and uses the development issuer: it does not run in production mode',
    );
  // a demo left running is a server too: the same heap as `serve` (src/cli/memory.ts)
  fixHeapGrowth();
  stopPretenuring();
  const app = await createApp(config);
  const { db } = app.services;
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM person');
  const spec = regionSpec();
  if (rows[0]!.n === 0) {
    process.stderr.write(`First start: generating a synthetic region of ${persons} people and loading it…\n`);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sharedcare-demo-'));
    try {
      await writeRegion({ persons, outDir: dir });
      await db.transaction(async (tx) => {
        for (const o of spec.organisations) await upsertOrganisation(tx, o);
        for (const s of spec.sources)
          await upsertSource(tx, { id: s.id, org: s.org, kind: s.kind, name: s.name });
      });
      const backend = await directBackend(config, db);
      for (const s of spec.sources) {
        const summary = await loadFiles(backend, s.id, [path.join(dir, s.id)], {
          progress: process.stderr.isTTY,
        });
        process.stderr.write(
          `  ${s.id}: ${summary.resources} entries in ${summary.seconds.toFixed(1)} s${summary.failedRequests ? `, ${summary.failedRequests} failed requests` : ''}\n`,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  await listen(app, config);

  // A typical person (not one of the heavy long tail), seen by a clinician at their GP practice,
  // which is a legitimate relationship.
  let index = 0;
  while (generatePerson(spec, index).heavy) index++;
  const shown = generatePerson(spec, index);
  const nhs = shown.nhsNumber;
  const gpSourceId = [...shown.bySource.keys()].find((id) => id.startsWith('gp-'));
  const viewerOds = spec.sources.find((s) => s.id === gpSourceId)?.org;
  const viewer =
    spec.organisations.find((o) => o.ods === viewerOds) ?? spec.organisations.find((o) => o.views)!;
  const contributesOnly = spec.organisations.find((o) => o.contributes && !o.views);
  const secret = config.devIssuerSecret!;
  const token = await mintUserToken(secret, {
    user: 'dr.demo',
    org: viewer.ods,
    role: 'R8000',
    name: 'Dr Demo',
  });
  const personId =
    (await db.query<{ id: string }>('SELECT id FROM person WHERE nhs_number = $1', [nhs])).rows[0]?.id ??
    '<id>';
  const gpSource = spec.sources[0]!;
  const sourceToken = await mintSourceToken(secret, gpSource.id);
  const base = config.publicUrl;
  const links = await demoLaunchLinks(db, base, config.access.recentDays, {
    typical: nhs,
    heavy: heavyPatient(spec),
    gp: viewer,
  });
  app.services.devLinks.push(...links); // the landing page at / lists them too
  process.stderr.write(
    [
      '',
      `Sharedcare demo region is running at ${base}`,
      '',
      'Open the viewer as a clinical system would (each link registers a fresh EHR launch; this machine only):',
      ...links.map((l) => `  ${l.label}:\n    ${l.url}`),
      `  or: npx sharedcare launch-url --user dr.demo --org ${viewer.ods} --role R8000 --nhs ${nhs}`,
      '',
      `Find a person (as a clinician at ${viewer.name}, ${viewer.ods}):`,
      `  curl -s -H "Authorization: Bearer ${token}" '${base}/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${nhs}'`,
      '',
      'Open their combined record (every item from every source, through access, policy and audit):',
      `  curl -s -H "Authorization: Bearer ${token}" '${base}/fhir/Patient/${personId}/$everything'`,
      '',
      'One section, filtered:',
      `  curl -s -H "Authorization: Bearer ${token}" '${base}/fhir/Observation?patient=${personId}&date=ge2024-01-01'`,
      '',
      'What to try next:',
      `  - other tokens: npx sharedcare token --user U --org ODS --role R8000${contributesOnly ? `  (try --org ${contributesOnly.ods}: it only contributes, so it is refused)` : ''}`,
      `  - send data as a source: curl -X POST -H "Authorization: Bearer ${sourceToken}" -H 'content-type: application/fhir+json' --data @bundle.json ${base}/ingest/fhir`,
      `  - record an objection (saying who you are and for which organisation): npx sharedcare objection add --nhs ${nhs} --by admin.demo --org ${viewer.ods}`,
      '  - check the audit trail: npx sharedcare audit verify',
      `  - operators: ${base}/health  ${base}/ready  ${base}/metrics`,
      '',
    ].join('\n'),
  );
}

/** The first of the heavy long tail, with the GP practice they are registered with. */
function heavyPatient(spec: ReturnType<typeof regionSpec>): {
  nhs: string;
  gp: { ods: string; name: string };
} {
  let i = 0;
  while (!generatePerson(spec, i).heavy) i++;
  const person = generatePerson(spec, i);
  const gpSource = [...person.bySource.keys()].find((id) => id.startsWith('gp-'));
  const ods = spec.sources.find((s) => s.id === gpSource)?.org;
  const gp = spec.organisations.find((o) => o.ods === ods) ?? spec.organisations.find((o) => o.views)!;
  return { nhs: person.nhsNumber, gp: { ods: gp.ods, name: gp.name } };
}

interface DemoLink {
  label: string;
  url: string;
}

/** Launch links for demo users, each chosen from the loaded data so that it shows what it says. */
async function demoLaunchLinks(
  db: Database,
  base: string,
  recentDays: number,
  known: {
    typical: string;
    heavy: { nhs: string; gp: { ods: string; name: string } };
    gp: { ods: string; name: string };
  },
): Promise<DemoLink[]> {
  const open = (user: string, name: string, org: string, role: string, nhs: string) =>
    `${base}/dev/ehr/open?${new URLSearchParams({ user, name, org, role, nhs }).toString()}`;
  const one = async (sql: string, params: unknown[]) =>
    (await db.query<{ nhs: string }>(sql, params)).rows[0]?.nhs;
  const noHospitalRelationship = await one(
    `SELECT nhs_number AS nhs FROM person p WHERE nhs_number IS NOT NULL AND NOT EXISTS
       (SELECT 1 FROM relationship_fact r WHERE r.person_id = p.id AND r.org_ods = 'RX1')
     ORDER BY nhs_number LIMIT 1`,
    [],
  );
  const socialCase = await one(
    `SELECT p.nhs_number AS nhs FROM relationship_fact r JOIN person p ON p.id = r.person_id
     WHERE r.org_ods = 'LA901' AND p.nhs_number IS NOT NULL
       AND (r.open OR r.at > now() - make_interval(days => $1))
     ORDER BY p.nhs_number LIMIT 1`,
    [recentDays],
  );
  const links: DemoLink[] = [
    {
      label: `GP at ${known.gp.name}, a typical patient of the practice`,
      url: open('dr.demo', 'Dr Demo', known.gp.ods, 'R8000', known.typical),
    },
    {
      label: `GP at ${known.heavy.gp.name}, a patient of theirs with thousands of items`,
      url: open('dr.heavy', 'Dr Heavy', known.heavy.gp.ods, 'R8000', known.heavy.nhs),
    },
  ];
  if (noHospitalRelationship)
    links.push({
      label: 'hospital doctor with no relationship to the patient (refused; break glass is offered)',
      url: open('dr.ward', 'Dr Ward', 'RX1', 'R8000', noHospitalRelationship),
    });
  if (socialCase)
    links.push({
      label: 'council social worker, a person with a social care case (social care view)',
      url: open('sw.demo', 'Sam Social', 'LA901', 'R0243', socialCase),
    });
  links.push({
    label: 'receptionist at the practice (appointments only)',
    url: open('rec.demo', 'Robin Reception', known.gp.ods, 'R8009', known.typical),
  });
  return links;
}
