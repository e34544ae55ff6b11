import { describe, expect, it } from 'vitest';
import { buildAck } from './ack.ts';
import { hl7DateToFhir } from './dates.ts';
import { mapMessage } from './map.ts';
import { decodeMessage, parseMessage, unescapeHl7 } from './message.ts';
import { MllpFramer, frame } from './mllp.ts';

const A01 = [
  'MSH|^~\\&|PAS|RX1|SHAREDCARE|REGION|20240315101500||ADT^A01^ADT_A01|MSG0001|P|2.4',
  'EVN|A01|20240315101500',
  "PID|1||H123456^^^RX1^MR~999 000 0018^^^NHS^NH||O'BRIEN\\T\\SMITH^Mary^Ann^^Mrs^^L||19600229|F|||1 High St^^Leeds^^LS1 1AA^GBR^H",
  'PV1|1|I|WARD7^BED2^^RX1||||C123^Jones^Alan|||300|||||||||V0001|||||||||||||||||||||||||20240315100000',
].join('\r');

describe('HL7 v2 parsing', () => {
  it('drops a NUL that an \\X escape decodes to: text cannot hold one (it went unanswered)', () => {
    expect(unescapeHl7('D\\X00\\1 Sm\\X41\\ith')).toBe('D1 SmAith');
  });
  it('takes segments separated by CR, LF or CRLF, with or without a byte-order mark', () => {
    for (const sep of ['\r', '\n', '\r\n']) {
      const parsed = parseMessage(`\uFEFF${A01.replace(/\r/g, sep)}`);
      expect(parsed).toMatchObject({ type: 'ADT', event: 'A01', controlId: 'MSG0001', version: '2.4' });
      expect(parsed.message.segments.map((s) => s.name)).toEqual(['MSH', 'EVN', 'PID', 'PV1']);
    }
  });

  it('decodes ISO-8859-1 when MSH-18 says so, and when the bytes are not UTF-8', () => {
    const latin = A01.replace('|P|2.4', '|P|2.4||||||8859/1').replace('Mary', 'Zoë');
    expect(decodeMessage(Buffer.from(latin, 'latin1'))).toContain('Zoë');
    expect(decodeMessage(Buffer.from(A01.replace('Mary', 'Zoë'), 'latin1'))).toContain('Zoë');
    expect(decodeMessage(Buffer.from(A01.replace('Mary', 'Zoë'), 'utf8'))).toContain('Zoë');
  });

  it('decodes escape sequences', () => {
    expect(unescapeHl7('A\\F\\B\\S\\C\\T\\D\\R\\E\\E\\F')).toBe('A|B^C&D~E\\F');
    expect(unescapeHl7('line 1\\.br\\line 2')).toBe('line 1\nline 2');
    expect(unescapeHl7('\\X41\\')).toBe('A');
  });

  it('refuses text that is not an HL7 v2 message, and a message without MSH-10', () => {
    expect(() => parseMessage('hello')).toThrow(/MSH/);
    expect(() => parseMessage('MSH|^~\\&|A|B|C|D|2024||ADT^A01||P|2.4')).toThrow(/MSH-10/);
  });
});

describe('HL7 v2 dates', () => {
  it.each([
    ['2024', '2024'],
    ['202403', '2024-03'],
    ['20240315', '2024-03-15'],
    ['202401151030', '2024-01-15T10:30:00+00:00'], // winter: GMT
    ['202407151030', '2024-07-15T10:30:00+01:00'], // summer: BST
    ['20240715103045+0200', '2024-07-15T10:30:45+02:00'],
    ['20240229', '2024-02-29'],
  ])('%s is %s', (raw, fhir) => {
    expect(hl7DateToFhir(raw, 'PID-7')).toEqual({ ok: true, value: fhir });
  });

  it.each(['19651312', '20230229', '20240132', '2024031525', 'yesterday'])(
    '%s is refused, naming the field',
    (raw) => {
      const r = hl7DateToFhir(raw, 'PID-7');
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.problem.expression).toBe('PID-7');
    },
  );
});

describe('HL7 v2 mapping', () => {
  it('maps an admission to a Patient with its NHS number and an Encounter', () => {
    const entries = mapMessage(parseMessage(A01), 'northgate-pas');
    const resources = entries.map((e) => e.resource as unknown as Record<string, unknown>);
    const [patient, encounter] = ['Patient', 'Encounter'].map((t) =>
      resources.find((r) => r.resourceType === t),
    );
    expect(patient).toMatchObject({
      resourceType: 'Patient',
      id: 'H123456',
      birthDate: '1960-02-29',
      gender: 'female',
      name: [{ family: "O'BRIEN&SMITH", given: ['Mary', 'Ann'], use: 'official' }],
    });
    expect(patient!.identifier).toContainEqual({
      system: 'https://fhir.nhs.uk/Id/nhs-number',
      value: '9990000018',
    });
    expect(encounter).toMatchObject({
      resourceType: 'Encounter',
      status: 'in-progress',
      class: { code: 'IMP' },
      subject: { reference: 'Patient/H123456' },
      period: { start: '2024-03-15T10:00:00+00:00' },
    });
  });

  it('answers an impossible date with AE naming segment and field', () => {
    const bad = A01.replace('19600229', '19651312');
    let problems: { expression?: string; message: string }[] = [];
    try {
      mapMessage(parseMessage(bad), 'northgate-pas');
    } catch (err) {
      problems = (err as { problems: typeof problems }).problems;
    }
    expect(problems).toContainEqual(expect.objectContaining({ expression: 'PID-7' }));
    const ack = buildAck(parseMessage(bad).message, 'AE', problems).split('\r');
    expect(ack[1]).toMatch(/^MSA\|AE\|MSG0001\|/);
    expect(ack[2]).toMatch(/^ERR\|\|PID\^1\^7\|102/);
  });

  it('refuses a message type it does not take as unsupported', () => {
    expect(() => mapMessage(parseMessage(A01.replace('ADT^A01^ADT_A01', 'ORM^O01')), 's')).toThrow(
      /not supported/,
    );
  });
});

describe('MLLP framing', () => {
  it('splits frames across chunks and many per chunk, and drops bytes outside frames', () => {
    const framer = new MllpFramer();
    const both = Buffer.concat([Buffer.from('noise'), frame('MSH|one'), frame('MSH|two')]);
    expect(framer.push(both.subarray(0, 10)).map(String)).toEqual([]);
    expect(framer.push(both.subarray(10, 20)).map(String)).toEqual(['MSH|one']);
    expect(framer.push(both.subarray(20)).map(String)).toEqual(['MSH|two']);
  });
});

describe('HL7 v2 batch files', () => {
  it('splits FHS/BHS batches into messages and checks the trailer count', async () => {
    const { splitBatch } = await import('./batch.ts');
    const two = [
      'FHS|^~\\&|PAS',
      'BHS|^~\\&|PAS',
      A01,
      A01.replace('MSG0001', 'MSG0002'),
      'BTS|2',
      'FTS|1',
    ].join('\n');
    const batch = splitBatch(two);
    expect(batch.messages).toHaveLength(2);
    expect(batch.messages[1]).toMatch(/^MSH.*MSG0002/);
    expect(batch.problems).toEqual([]);
    expect(splitBatch(two.replace('BTS|2', 'BTS|3')).problems[0]?.expression).toBe('BTS-1');
    expect(splitBatch(`${A01}\n${A01}`).messages).toHaveLength(2);
  });
});
