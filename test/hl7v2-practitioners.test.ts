/**
 * The clinicians an HL7 v2 feed names (XCN fields) reach the record: a visit's attending,
 * referring, consulting and admitting doctors, a letter's author and an appointment's clinician,
 * each a Practitioner that `_include` brings in beside the item, with the UK Core identifier of a
 * GMC number or a GP's national code. The shapes are those of the UK sample feeds in
 * ../shared/fixtures/hl7v2 (a consultant code with authority GMC; a GP code; a name with no id).
 */
import type {
  Appointment,
  Bundle,
  DiagnosticReport,
  DocumentReference,
  Encounter,
  Observation,
  Patient,
  Practitioner,
} from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIRECTORY_ENTRY_EXTENSION, ODS_SYSTEM } from '../src/fhir/index.ts';
import { GMC_NUMBER, GMP_NUMBER } from '../src/ingest/hl7v2/practitioners.ts';
import { renderPdf } from '../src/generate/letters.ts';
import { upsertOrganisation, upsertSource } from '../src/region/index.ts';
import { getAs, personIdFor, postFhir, postHl7 } from './http.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';

const SOURCE = 'rx1-pas';
const NHS = '9990001200';
const CONSULTANT = 'C3456789^Darwin^Samuel^^^Dr^^^GMC';
const GP = 'G5612908^Townley^Gregory^^^Dr^^^GMC';

const message = (type: string, control: string, ...body: string[]) =>
  [
    `MSH|^~\\&|${SOURCE}|RX1|SHAREDCARE|REGION|20240601120000||${type}|${control}|P|2.4`,
    `PID|1||H8080^^^RX1^MR~${NHS}^^^NHS^NH||TESTER^Pat||19800101|F`,
    ...body,
  ].join('\r');

/** PV1 with fields 7, 8, 9 and 17 set (and the visit number, 19). */
const pv1 = (attending: string, referring: string, consulting: string, admitting: string) =>
  `PV1|1|I|WARD3^^^RX1||||${attending}|${referring}|${consulting}||||||||${admitting}||V-8080`;

describe.each(DB_KINDS)('HL7 v2 clinicians on %s', (kind) => {
  let r: TestRegion;
  let personId: string;
  let token: string;
  const post = (body: string) => postHl7(r, SOURCE, body);
  const search = async (query: string) => {
    const res = await getAs<Bundle>(r, token, `/fhir/${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return (res.body.entry ?? []).map((e) => e.resource!);
  };
  const practitioners = (resources: { resourceType: string }[]) =>
    (resources.filter((x) => x.resourceType === 'Practitioner') as Practitioner[])
      .map((p) => ({ identifier: p.identifier, name: p.name }))
      .sort((a, b) => a.identifier![0]!.value!.localeCompare(b.identifier![0]!.value!));

  beforeAll(async () => {
    r = await startRegion(kind);
    await upsertSource(r.db, { id: SOURCE, org: 'RX1', kind: 'hl7v2' });
    await upsertOrganisation(r.db, { ods: 'Y01234', name: 'Castle Surgery', kind: 'gp', contributes: true });
    await upsertSource(r.db, { id: 'gp-castle', org: 'Y01234', kind: 'fhir' });
    const admitted = await post(
      message(
        'ADT^A01^ADT_A01',
        'PR-1',
        'EVN|A01|20240601110000',
        // the consultant attends and admitted the patient; the consulting doctor has no id
        pv1(CONSULTANT, GP, '^Okafor^Ada^^^Dr', CONSULTANT),
      ),
    );
    expect(admitted).toContain('MSA|AA|PR-1');
    personId = await personIdFor(r, NHS);
    token = await r.userToken('dr.ward', 'RX1', 'R8000');
  });
  afterAll(async () => r?.drop());

  it('names a visit’s doctors by their part in it, and includes each one once', async () => {
    const found = await search(`Encounter?patient=${personId}&_include=Encounter:practitioner`);
    const encounter = found.find((x) => x.resourceType === 'Encounter') as Encounter;
    expect(encounter.participant!.map((p) => [p.type![0]!.coding![0]!.code, p.individual!.display])).toEqual([
      ['ATND', 'Dr Samuel Darwin'],
      ['REF', 'Dr Gregory Townley'],
      ['CON', 'Dr Ada Okafor'],
      ['ADM', 'Dr Samuel Darwin'],
    ]);
    expect(practitioners(found)).toEqual([
      {
        identifier: [{ system: GMC_NUMBER, value: '3456789' }],
        name: [{ family: 'Darwin', given: ['Samuel'], prefix: ['Dr'] }],
      },
      {
        identifier: [{ system: GMP_NUMBER, value: 'G5612908' }],
        name: [{ family: 'Townley', given: ['Gregory'], prefix: ['Dr'] }],
      },
    ]);
  });

  it('answers AA for a clinician whose name escapes a NUL (it was a 500, and held up the feed)', async () => {
    const visit = message(
      'ADT^A08^ADT_A01',
      'PR-NUL',
      'EVN|A08|20240601130000',
      pv1('D\\X00\\1^Sm\\X00\\ith^Jo^^^Dr', '', '', ''),
    );
    expect(await post(visit)).toContain('MSA|AA|PR-NUL');
    const found = await search(`Encounter?patient=${personId}`);
    const names = (found as Encounter[])
      .flatMap((e) => e.participant ?? [])
      .map((p) => p.individual?.display);
    expect(names).toContain('Dr Jo Smith');
  });

  it('names a letter’s author and an appointment’s clinician', async () => {
    const letter = message(
      'MDM^T02^MDM_T02',
      'PR-2',
      'EVN|T02|20240602120000',
      'PV1|1|O',
      `TXA|1|CL^Clinic letter^L|TX|20240602120000|||||${CONSULTANT}|||DOC-8080||||||AU`,
      'OBX|1|TX|LETTER^Letter^L||Seen in clinic today.||||||F',
    );
    const appointment = message(
      'SIU^S12^SIU_S12',
      'PR-3',
      'SCH|P-8080|APT-8080|||||FOLLOWUP^Follow-up^L||30|min|^^^20240701093000',
      'AIS|1||CARDIO^Cardiology clinic^L',
      'AIP|1||LOCUM7^Reyes^Maria^^^Dr',
    );
    expect(await post(letter)).toContain('MSA|AA|PR-2');
    expect(await post(appointment)).toContain('MSA|AA|PR-3');

    const docs = await search(`DocumentReference?patient=${personId}&_include=DocumentReference:author`);
    const doc = docs.find((x) => x.resourceType === 'DocumentReference') as DocumentReference;
    expect(doc.author?.map((a) => a.display)).toEqual(['Dr Samuel Darwin']);
    expect(practitioners(docs).map((p) => p.identifier)).toEqual([
      [{ system: GMC_NUMBER, value: '3456789' }],
    ]);

    const appts = await search(`Appointment?patient=${personId}&_include=Appointment:practitioner`);
    const appt = appts.find((x) => x.resourceType === 'Appointment') as Appointment;
    expect(appt.participant.map((p) => p.actor?.display)).toContain('Dr Maria Reyes');
    // a local id: the hospital's own identifier system, not a national one
    expect(practitioners(appts)).toEqual([
      {
        identifier: [{ system: `urn:sharedcare:source:${SOURCE}:practitioner`, value: 'LOCUM7' }],
        name: [{ family: 'Reyes', given: ['Maria'], prefix: ['Dr'] }],
      },
    ]);
  });

  it('keeps the registered practice and the usual GP (PD1-3, PD1-4) on the person', async () => {
    const updated = message(
      'ADT^A31^ADT_A05',
      'PR-GP',
      'EVN|A31|20240603120000',
      `PD1|||CASTLE SURGERY^^Y01234|${GP}`,
    );
    expect(await post(updated)).toContain('MSA|AA|PR-GP');
    const res = await getAs<Patient>(r, token, `/fhir/Patient/${personId}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const gps = res.body.generalPractitioner ?? [];
    expect(gps.map((g) => g.display)).toEqual(['CASTLE SURGERY', 'Dr Gregory Townley']);
    expect(gps[0]!.identifier).toEqual({ system: ODS_SYSTEM, value: 'Y01234' });
    // the GP's own record, which names no practice, does not hide what the hospital said
    const gpRecord = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          resource: {
            resourceType: 'Patient',
            id: 'gp-8080',
            identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: NHS }],
            name: [{ family: 'Tester', given: ['Pat'] }],
            birthDate: '1980-01-01',
            gender: 'female',
          },
        },
      ],
    };
    const sent = await postFhir(r, 'gp-castle', gpRecord);
    expect(sent.status, sent.text).toBe(200);
    const after = await getAs<Patient>(r, token, `/fhir/Patient/${personId}`);
    expect(after.body.name?.[0]?.family).toBe('Tester'); // the GP's record is the best source now
    expect(after.body.generalPractitioner?.map((g) => g.display)).toEqual([
      'CASTLE SURGERY',
      'Dr Gregory Townley',
    ]);

    // stored as a directory entry's link, as a FHIR source's reference is: the national GP code's
    // Practitioner, the same one a visit names when the GP refers
    const referral = message(
      'ADT^A04^ADT_A01',
      'PR-GP-REF',
      'EVN|A04|20240603130000',
      `PV1|1|O|CLINIC2^^^RX1|||||${GP}|||||||||||V-8081`,
    );
    expect(await post(referral)).toContain('MSA|AA|PR-GP-REF');
    const link = gps[1]!.extension?.find((e) => e.url === DIRECTORY_ENTRY_EXTENSION)?.valueString;
    const visits = await search(`Encounter?patient=${personId}&_include=Encounter:practitioner`);
    const gp = visits.find((x) => `Practitioner/${x.id}` === link) as Practitioner | undefined;
    expect(gp?.identifier).toEqual([{ system: GMP_NUMBER, value: 'G5612908' }]);
  });

  it('names a result’s responsible observer (OBX-16) as its performer', async () => {
    const result = message(
      'ORU^R01^ORU_R01',
      'PR-OBS',
      'OBR|1|ORD-8080|LAB-8080|FBC^Full blood count^L|||20240604090000',
      `OBX|1|NM|HB^Haemoglobin^L||131|g/L|115-165||||F|||20240604090000||${CONSULTANT}`,
    );
    expect(await post(result)).toContain('MSA|AA|PR-OBS');
    const found = await search(`Observation?patient=${personId}&_include=Observation:performer`);
    const hb = found.find((x) => x.resourceType === 'Observation') as Observation;
    expect(hb.performer?.map((p) => p.display)).toEqual(['Dr Samuel Darwin']);
    expect(practitioners(found).map((p) => p.identifier)).toEqual([
      [{ system: GMC_NUMBER, value: '3456789' }],
    ]);
  });

  it('names the clinician responsible for a report sent as a document (OBX-16 of its ED result)', async () => {
    const pdf = Buffer.from(renderPdf('CT head: no acute abnormality.'), 'latin1').toString('base64');
    const report = message(
      'ORU^R01^ORU_R01',
      'PR-DOC',
      'OBR|1|ORD-8082|RAD-8082|CTHEAD^CT head^L|||20240605090000||||||||||||||||||F|RAD',
      `OBX|1|ED|REPORT^Report^L||^application^pdf^Base64^${pdf}||||||F|||20240605090000||${CONSULTANT}`,
    );
    expect(await post(report)).toContain('MSA|AA|PR-DOC');
    const found = await search(
      `DiagnosticReport?patient=${personId}&_include=DiagnosticReport:results-interpreter`,
    );
    const ct = found.find((x) => x.resourceType === 'DiagnosticReport') as DiagnosticReport;
    expect(ct.resultsInterpreter?.map((p) => p.display)).toEqual(['Dr Samuel Darwin']);
    expect(practitioners(found).map((p) => p.identifier)).toEqual([
      [{ system: GMC_NUMBER, value: '3456789' }],
    ]);
  });
});
