/**
 * HL7 v2 results linked to their visit (PV1-19): a result taken at a sexual-health clinic visit is
 * withheld with the visit, as a FHIR feed's results naming their Encounter are, whatever its own
 * test code (a full blood count is on no sensitive list; where it was taken is what it reveals).
 */
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertSource } from '../src/region/index.ts';
import { everything, personIdFor, postHl7 } from './http.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';

const SOURCE = 'northgate-hl7';

const msh = (type: string, control: string) =>
  `MSH|^~\\&|${SOURCE}|RX1|SHAREDCARE|REGION|20240315101500||${type}|${control}|P|2.4`;
const pid = (hospitalNo: string, nhs: string) =>
  `PID|1||${hospitalNo}^^^RX1^MR~${nhs}^^^NHS^NH||TESTER^Pat||19700101|F|||1 High St^^Leeds^^LS1 1AA^GBR^H`;
/** PV1 of an outpatient visit: PV1-10 the service (treatment function), PV1-19 the visit number */
const pv1 = (service: string, visit: string) =>
  `PV1|1|O|CLINIC^^^RX1||||C123^Jones^Alan|||${service}|||||||||${visit}|||||||||||||||||||||||||20240315100000`;

const attendance = (control: string, hospitalNo: string, nhs: string, service: string, visit: string) =>
  [msh('ADT^A04^ADT_A01', control), 'EVN|A04|20240315101500', pid(hospitalNo, nhs), pv1(service, visit)].join(
    '\r',
  );

const bloodCount = (control: string, hospitalNo: string, nhs: string, visit: string | undefined) =>
  [
    msh('ORU^R01^ORU_R01', control),
    pid(hospitalNo, nhs),
    ...(visit ? [pv1('', visit)] : []),
    `OBR|1|ORD-${control}|FIL-${control}|58410-2^Full blood count^LN|||20240315110000||||||||||||||||||F`,
    `OBX|1|NM|718-7^Haemoglobin^LN||131|g/L^g/L^UCUM|115-165|N|||F|||20240315110000`,
  ].join('\r');

describe.each(DB_KINDS)('HL7 v2 results at a visit, on %s', (kind) => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion(kind);
    await upsertSource(r.db, { id: SOURCE, org: 'RX1', kind: 'hl7v2' });
  });
  afterAll(async () => r.drop());

  const send = async (message: string) => expect(await postHl7(r, SOURCE, message)).toMatch(/MSA\|AA\|/);
  const shown = async (nhs: string): Promise<string[]> => {
    const { items } = await everything(
      r,
      await personIdFor(r, nhs),
      await r.userToken('dr.ward', 'RX1', 'R8000'),
    );
    return items.map((i: Resource) => i.resourceType).sort();
  };

  it('withholds a result taken at a sexual-health clinic visit, and shows one taken at another visit', async () => {
    await send(attendance('V-1', 'H7001', '9990005214', '360', 'GUM-7001'));
    await send(bloodCount('R-1', 'H7001', '9990005214', 'GUM-7001'));
    await send(attendance('V-2', 'H7001', '9990005214', '300', 'GEN-7001'));
    await send(bloodCount('R-2', 'H7001', '9990005214', 'GEN-7001'));
    // the general medicine visit and its report and result; nothing of the clinic's
    expect(await shown('9990005214')).toEqual(['DiagnosticReport', 'Encounter', 'Observation']);
  });

  // a visit of general medicine first: the hospital's clinician then has a relationship to read by
  it('withholds a result that arrived before the clinic visit it names, once the visit arrives', async () => {
    await send(attendance('V-3', 'H7002', '9990005222', '300', 'GEN-7002'));
    await send(bloodCount('R-3', 'H7002', '9990005222', 'GUM-7002'));
    expect(await shown('9990005222')).toEqual(['DiagnosticReport', 'Encounter', 'Observation']);
    await send(attendance('V-4', 'H7002', '9990005222', '360', 'GUM-7002'));
    expect(await shown('9990005222')).toEqual(['Encounter']);
  });

  it('shows a result whose message names no visit', async () => {
    await send(attendance('V-5', 'H7003', '9990005230', '300', 'GEN-7003'));
    await send(bloodCount('R-4', 'H7003', '9990005230', undefined));
    expect(await shown('9990005230')).toEqual(['DiagnosticReport', 'Encounter', 'Observation']);
  });
});
