import type { Encounter, Practitioner, Resource } from '@medplum/fhirtypes';
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
});
