import type { Encounter, Patient, Practitioner, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { mapMessage } from './map.ts';
import { parseMessage } from './message.ts';
import { GMC_NUMBER, GMP_NUMBER } from './practitioners.ts';

/** An admission whose PV1-7, -8, -9 and -17 are these. */
const admission = (attending: string, referring = '', consulting = '', admitting = '') =>
  [
    'MSH|^~\\&|PAS|RX1|SHAREDCARE|REGION|20240315101500||ADT^A01^ADT_A01|MSG0002|P|2.4',
    'EVN|A01|20240315101500',
    'PID|1||H123456^^^RX1^MR~9990000018^^^NHS^NH||SMITH^Mary||19600229|F',
    `PV1|1|I|WARD7^^^RX1||||${attending}|${referring}|${consulting}||||||||${admitting}||V0002`,
  ].join('\r');

const mapped = (message: string) => {
  const resources = mapMessage(parseMessage(message), 'pas').map((e) => e.resource as Resource);
  return {
    participants: (resources.find((r) => r.resourceType === 'Encounter') as Encounter).participant ?? [],
    practitioners: resources.filter((r) => r.resourceType === 'Practitioner') as Practitioner[],
  };
};

describe('the clinicians of an HL7 v2 message', () => {
  it('keeps two clinicians apart whose authority and id would join to the same text', () => {
    const { participants, practitioners } = mapped(
      admission('PAS-123^Alpha^Anne^^^Dr^^^RX1', '123^Beta^Bob^^^Dr^^^RX1-PAS'),
    );
    expect(practitioners.map((p) => p.name?.[0]?.family)).toEqual(['Alpha', 'Beta']);
    expect(new Set(practitioners.map((p) => p.id)).size).toBe(2);
    expect(participants.map((p) => p.individual?.reference)).toEqual(
      practitioners.map((p) => `Practitioner/${p.id}`),
    );
  });

  it('reads HL7’s explicit null ("") as nobody, not as a clinician called ""', () => {
    const { participants, practitioners } = mapped(admission('""', '""^""^""', '^""^""^^^Dr'));
    expect(practitioners).toEqual([]);
    expect(participants).toEqual([]);
  });

  it('shows a clinician sent without a name by the identifier, and a title alone as no name', () => {
    const { participants, practitioners } = mapped(
      admission('C3456789^^^^^^^^GMC', 'LOC9^^^^^Dr', '^^^^^Dr'),
    );
    expect(participants.map((p) => p.individual?.display)).toEqual(['GMC 3456789', 'Clinician LOC9']);
    expect(practitioners.map((p) => [p.identifier, p.name])).toEqual([
      [[{ system: GMC_NUMBER, value: '3456789' }], undefined],
      [[{ system: 'urn:sharedcare:source:pas:practitioner', value: 'LOC9' }], undefined],
    ]);
  });

  it('keeps a GP-code-shaped id as the source’s own when the source names its own authority', () => {
    const { practitioners } = mapped(
      admission('G1234567^Local^Staff^^^Dr^^^RX1', 'G7654321^Gp^Named^^^Dr^^^NHS'),
    );
    expect(practitioners.map((p) => p.identifier)).toEqual([
      [{ system: 'urn:sharedcare:source:pas:practitioner:RX1', value: 'G1234567' }],
      [{ system: GMP_NUMBER, value: 'G7654321' }],
    ]);
  });

  it('takes a letter’s author from TXA-5 when TXA-9 is there but empty', () => {
    const letter = [
      'MSH|^~\\&|PAS|RX1|SHAREDCARE|REGION|20240317120000||MDM^T02^MDM_T02|MSG0003|P|2.4',
      'EVN|T02|20240317120000',
      'PID|1||H123456^^^RX1^MR~9990000018^^^NHS^NH||SMITH^Mary||19600229|F',
      'PV1|1|O',
      'TXA|1|CL^Clinic letter^L|TX|20240317120000|C3456789^Darwin^Samuel^^^Dr^^^GMC||||^|||DOC-78||||||AU',
      'OBX|1|TX|LETTER^Letter^L||Seen today.||||||F',
    ].join('\r');
    const resources = mapMessage(parseMessage(letter), 'pas').map((e) => e.resource as Resource);
    const doc = resources.find((r) => r.resourceType === 'DocumentReference') as {
      author?: { display?: string }[];
    };
    expect(doc.author?.map((a) => a.display)).toEqual(['Dr Samuel Darwin']);
  });

  describe('the practice and usual GP of PD1', () => {
    const patients = (...segments: string[]) =>
      (
        mapMessage(
          parseMessage(
            [
              'MSH|^~\\&|PAS|RX1|SHAREDCARE|REGION|20240318120000||ADT^A40^ADT_A39|MSG0004|P|2.4',
              'EVN|A40|20240318120000',
              ...segments,
            ].join('\r'),
          ),
          'pas',
        ).map((e) => e.resource as Resource) as Patient[]
      ).filter((r) => r.resourceType === 'Patient' && r.active !== false); // not the retired records
    const gps = (p: Patient | undefined) =>
      (p?.generalPractitioner ?? []).map((g) => [g.type ?? g.identifier?.value, g.display]);

    it('gives each patient of a merge its own PD1, not the first patient’s', () => {
      const [a, b] = patients(
        'PID|1||B1^^^RX1^MR||ONE^Ann||19700101|F',
        'PD1|||CASTLE SURGERY^^Y01234|G5612908^Townley^Gregory^^^Dr||||||||Y',
        'MRG|B9^^^RX1^MR',
        'PID|2||B2^^^RX1^MR||TWO^Bea||19710101|F',
        'PD1|||HILL PRACTICE^^Y05678|G1111111^Other^Olive^^^Dr',
        'MRG|B8^^^RX1^MR',
      );
      expect(gps(a)).toEqual([
        ['Y01234', 'CASTLE SURGERY'],
        [undefined, 'Dr Gregory Townley'],
      ]);
      expect(gps(b)).toEqual([
        ['Y05678', 'HILL PRACTICE'],
        [undefined, 'Dr Olive Other'],
      ]);
      expect(a?.meta?.security?.[0]?.code).toBe('R');
      expect(b?.meta?.security).toBeUndefined(); // the first patient's restriction is theirs alone
    });

    it('says a GP named without an id is a clinician, reads "" as no practice, and names a repeated GP once', () => {
      const [a] = patients(
        'PID|1||B3^^^RX1^MR||THREE^Cat||19720101|F',
        'PD1|||""^^""|^Townley^Gregory^^^Dr~^Townley^Gregory^^^Dr',
        'MRG|B7^^^RX1^MR',
      );
      expect(gps(a)).toEqual([['Practitioner', 'Dr Gregory Townley']]);
      const [b] = patients(
        'PID|1||B4^^^RX1^MR||FOUR^Dan||19730101|M',
        'PD1|||CASTLE SURGERY^^Y01234|G5612908^Townley^Gregory^^^Dr~G5612908^Townley^Gregory^^^Dr',
        'MRG|B6^^^RX1^MR',
      );
      expect(gps(b)).toEqual([
        ['Y01234', 'CASTLE SURGERY'],
        [undefined, 'Dr Gregory Townley'],
      ]);
    });
  });
});
