/**
 * ORU^R01 (results) → DiagnosticReport with its Observations: numeric results with units and
 * reference ranges, coded and text results, and documents embedded in ED/RP fields (a PDF report)
 * as the report's presentedForm. A corrected result (OBX-11 `C`) has the same id as the one it
 * corrects, so it replaces it as a new version. The responsible observer (OBX-16) is the
 * Observation's performer, or, for a report sent as a document, the report's resultsInterpreter.
 */
import type {
  Attachment,
  DiagnosticReport,
  Observation,
  ObservationReferenceRange,
  Practitioner,
  Reference,
} from '@medplum/fhirtypes';
import { keepSpelling } from '../../fhir/index.ts';
import { fhirId, patientRef, visitId, type MappingContext } from './common.ts';
import { mapPatient } from './map-patient.ts';
import type { Segment } from './message.ts';
import { practitionersIn } from './practitioners.ts';

const REPORT_STATUS: Record<string, DiagnosticReport['status']> = {
  F: 'final',
  C: 'corrected',
  P: 'preliminary',
  A: 'partial',
  X: 'cancelled',
  R: 'registered',
  I: 'registered',
  O: 'registered',
  S: 'registered',
};
const RESULT_STATUS: Record<string, Observation['status']> = {
  F: 'final',
  C: 'corrected',
  P: 'preliminary',
  R: 'registered',
  I: 'registered',
  S: 'preliminary',
  X: 'cancelled',
  D: 'entered-in-error',
  W: 'entered-in-error',
  U: 'final',
};

/**
 * The visit the results were taken at, where the message names one (PV1-19): linked as an ADT
 * message of the source names it, so that results of a visit that is withheld (a sexual-health or
 * pregnancy-advisory clinic's, by its service) are withheld with it, as a FHIR feed's are.
 */
function visitOf(ctx: MappingContext): { encounter?: { reference: string } } {
  const visit = ctx.first('PV1')?.get(19);
  return visit ? { encounter: { reference: `Encounter/${visitId(visit)}` } } : {};
}

export function mapResults(ctx: MappingContext): void {
  const patientId = mapPatient(ctx);
  if (!patientId) return;
  // OBX and NTE segments belong to the OBR before them; those before any OBR stand alone.
  let group: { obr?: Segment; obx: Segment[] } = { obx: [] };
  const groups = [group];
  for (const seg of ctx.segments) {
    if (seg.name === 'OBR') groups.push((group = { obr: seg, obx: [] }));
    else if (seg.name === 'OBX') group.obx.push(seg);
  }
  for (const g of groups) {
    if (g.obr) mapReport(ctx, patientId, g.obr, g.obx);
    // a document outside any report has nowhere to go; a result outside one stands alone
    else {
      const taken = new Set<string>();
      for (const obx of g.obx)
        if (!isDocument(obx)) mapObservation(ctx, patientId, obx, undefined, undefined, taken);
    }
  }
}

function mapReport(ctx: MappingContext, patientId: string, obr: Segment, obxs: Segment[]): void {
  const order = obr.get(3) || obr.get(2);
  const code = ctx.coded(obr, 4);
  if (!code) {
    ctx.problems.push({
      message: `${obr.at}-4 (universal service identifier) is empty`,
      expression: `${obr.at}-4`,
    });
    return;
  }
  const effective = ctx.date(obr, 7);
  const reportId = fhirId(
    'report',
    order || `${patientId}-${code.coding?.[0]?.code ?? ''}-${effective ?? ''}`,
  );
  const results: { reference: string }[] = [];
  const presentedForm: Attachment[] = [];
  // who is responsible for a report sent as a document: its OBX's responsible observer (OBX-16)
  const interpreters: Reference<Practitioner>[] = [];
  const seen = new Map<string, number>();
  const taken = new Set<string>();
  for (const obx of obxs) {
    if (isDocument(obx)) {
      const doc = embeddedDocument(ctx, obx);
      if (doc) presentedForm.push(doc);
      for (const p of practitionersIn(ctx, obx, 16))
        if (!interpreters.some((q) => q.display === p.display && q.reference === p.reference))
          interpreters.push(p);
      continue;
    }
    // the same test twice in one report without a sub-id: told apart by order, as the sender sends it
    const key = `${obx.get(3)}|${obx.get(4)}`;
    const nth = (seen.get(key) ?? 0) + 1;
    seen.set(key, nth);
    const id = mapObservation(ctx, patientId, obx, `${reportId}-${obx.get(4) || nth}`, effective, taken);
    if (id) results.push({ reference: `Observation/${id}` });
  }
  const section = obr.get(24).toUpperCase();
  const issued = ctx.date(obr, 22);
  const report: DiagnosticReport = {
    resourceType: 'DiagnosticReport',
    id: reportId,
    ...(order
      ? { identifier: [{ system: `urn:sharedcare:source:${ctx.sourceId}:order`, value: order }] }
      : {}),
    status: REPORT_STATUS[obr.get(25).toUpperCase()] ?? 'final',
    category: [
      {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/v2-0074',
            code: ['RAD', 'RX', 'CT', 'US', 'NMR'].includes(section) ? 'RAD' : section || 'LAB',
          },
        ],
      },
    ],
    code,
    subject: patientRef(patientId),
    ...visitOf(ctx),
    ...(effective ? { effectiveDateTime: effective } : {}),
    ...(issued && issued.includes('T') ? { issued } : {}),
    ...(results.length ? { result: results } : {}),
    ...(presentedForm.length ? { presentedForm } : {}),
    ...(interpreters.length ? { resultsInterpreter: interpreters } : {}),
  };
  ctx.add(obr.at, report);
}

/** One OBX as an Observation; returns its id, or undefined when it carries no result. */
function mapObservation(
  ctx: MappingContext,
  patientId: string,
  obx: Segment,
  /** the report's id and the result's place in it; standalone results are keyed by code and time */
  idBase: string | undefined,
  reportTime: string | undefined,
  /** the ids this report's results already have */
  taken: Set<string>,
): string | undefined {
  const code = ctx.coded(obx, 3);
  if (!code) {
    ctx.problems.push({
      message: `${obx.at}-3 (observation identifier) is empty`,
      expression: `${obx.at}-3`,
    });
    return undefined;
  }
  const value = observationValue(ctx, obx);
  const status = RESULT_STATUS[obx.get(11).toUpperCase()] ?? 'final';
  const effective = ctx.date(obx, 14) ?? reportTime;
  const key = code.coding?.[0]?.code ?? code.text ?? '';
  const natural = idBase ? fhirId(idBase, key) : fhirId(patientId, 'obs', key, effective ?? '');
  // Sub-id 1 and a first result with no sub-id make the same id, and so would the same test twice
  // at one time outside a report: the later one is told apart by its place, so that neither
  // replaces the other. The first keeps the id it always had, so results stored before are not
  // duplicated when their report is sent again.
  let id = natural;
  for (let n = 2; taken.has(id); n++) id = fhirId(natural, String(n));
  taken.add(id);
  const range = referenceRange(obx.get(7));
  const flag = obx.get(8);
  // OBX-16, the responsible observer: who made or verified the result (an XCN)
  const performer = practitionersIn(ctx, obx, 16);
  const observation: Observation = {
    resourceType: 'Observation',
    id,
    status,
    category: [
      {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' },
        ],
      },
    ],
    code,
    subject: patientRef(patientId),
    ...visitOf(ctx),
    ...(effective ? { effectiveDateTime: effective } : {}),
    ...value,
    ...(range ? { referenceRange: [range] } : {}),
    ...(performer.length ? { performer } : {}),
    ...(flag
      ? {
          interpretation: [
            {
              coding: [
                { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: flag },
              ],
            },
          ],
        }
      : {}),
  };
  keepDecimals(observation, obx);
  ctx.add(obx.at, observation);
  return id;
}

function observationValue(ctx: MappingContext, obx: Segment): Partial<Observation> {
  const type = obx.get(2).toUpperCase();
  const raw = obx.get(5);
  if (!raw && obx.repetitions(5) === 0) return {};
  switch (type) {
    case 'NM': {
      const n = Number(raw);
      if (!Number.isFinite(n) || raw === '') {
        ctx.problems.push({
          message: `${obx.at}-5 is not a number (OBX-2 says NM)`,
          expression: `${obx.at}-5`,
        });
        return {};
      }
      const unit = obx.get(6, 1) || obx.get(6, 2);
      const ucum = /^UCUM$/i.test(obx.get(6, 3));
      return {
        valueQuantity: {
          value: n,
          ...(unit
            ? {
                unit: obx.get(6, 2) || unit,
                ...(ucum ? { system: 'http://unitsofmeasure.org', code: obx.get(6, 1) } : {}),
              }
            : {}),
        },
      };
    }
    case 'SN':
      return structuredNumeric(obx);
    case 'CE':
    case 'CWE':
    case 'CNE':
    case 'CF': {
      const concept = ctx.coded(obx, 5);
      return concept ? { valueCodeableConcept: concept } : {};
    }
    case 'TS':
    case 'DT':
    case 'DTM': {
      const when = ctx.date(obx, 5);
      return when ? { valueDateTime: when } : {};
    }
    default: {
      // ST, TX, FT and anything else textual: every repetition, one per line
      const lines: string[] = [];
      for (let rep = 0; rep < Math.max(1, obx.repetitions(5)); rep++) lines.push(obx.get(5, 1, rep));
      const text = lines.join('\n').trim();
      return text ? { valueString: text } : {};
    }
  }
}

/**
 * An SN value (comparator^number^separator^number): a ratio (1:128, a titre), a range (10-20), a
 * number with a comparator (<5); anything else, as the text sent. A ratio or range is never cut
 * to its first number, which would read as another result.
 */
function structuredNumeric(obx: Segment): Partial<Observation> {
  const [comparator, first, separator, second] = [1, 2, 3, 4].map((c) => obx.get(5, c).trim()) as [
    string,
    string,
    string,
    string,
  ];
  const asText = { valueString: [comparator, first, separator, second].join('') };
  const n1 = first === '' ? NaN : Number(first);
  const n2 = second === '' ? NaN : Number(second);
  const unit = obx.get(6) ? { unit: obx.get(6, 2) || obx.get(6, 1) } : {};
  if (!Number.isFinite(n1)) return asText;
  if (separator === '' && second === '')
    return {
      valueQuantity: {
        value: n1,
        ...(['<', '>', '<=', '>='].includes(comparator) ? { comparator: comparator as '<' } : {}),
        ...unit,
      },
    };
  if (comparator !== '' || !Number.isFinite(n2)) return asText;
  if (separator === ':' || separator === '/')
    return { valueRatio: { numerator: { value: n1 }, denominator: { value: n2 } } };
  if (separator === '-') return { valueRange: { low: { value: n1, ...unit }, high: { value: n2, ...unit } } };
  return asText;
}

/** OBX-7 as two numbers ("3.50-5.30"): the range a result is read against */
const RANGE = /^\s*(-?\d+(?:\.\d+)?)\s*-\s*(-?\d+(?:\.\d+)?)\s*$/;

function referenceRange(text: string): ObservationReferenceRange | undefined {
  if (!text) return undefined;
  const m = RANGE.exec(text);
  const [low, high] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  // a bound no double holds (a 400-digit number) is kept as the text only
  if (Number.isFinite(low) && Number.isFinite(high))
    return { low: { value: low }, high: { value: high }, text };
  return { text };
}

/**
 * An HL7 v2 number (NM: an optional sign, digits, an optional point) as a FHIR decimal's JSON
 * spelling, precision kept ("+007.50" is 7.50): what the stored Observation is written with.
 */
function decimalText(raw: string): string | undefined {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d+))?\s*$/.exec(raw);
  if (!m || (m[2] === '' && m[3] === undefined)) return undefined;
  const whole = m[2]!.replace(/^0+(?=\d)/, '') || '0';
  return `${m[1] === '-' ? '-' : ''}${whole}${m[3] !== undefined ? `.${m[3]}` : ''}`;
}

/** Keeps, on the Observation, the spelling of the numbers the message sent (src/fhir/decimals.ts). */
function keepDecimals(observation: Observation, obx: Segment): void {
  const keep = (holder: { value?: number } | undefined, raw: string) => {
    const text = decimalText(raw);
    if (holder?.value !== undefined && text !== undefined && Number(text) === holder.value)
      keepSpelling(observation, holder, 'value', text);
  };
  const type = obx.get(2).toUpperCase();
  if (type === 'NM') keep(observation.valueQuantity, obx.get(5));
  if (type === 'SN') {
    keep(
      observation.valueQuantity ?? observation.valueRatio?.numerator ?? observation.valueRange?.low,
      obx.get(5, 2),
    );
    keep(observation.valueRatio?.denominator ?? observation.valueRange?.high, obx.get(5, 4));
  }
  const range = RANGE.exec(obx.get(7));
  if (range) {
    keep(observation.referenceRange?.[0]?.low, range[1]!);
    keep(observation.referenceRange?.[0]?.high, range[2]!);
  }
}

const MIME: Record<string, string> = {
  PDF: 'application/pdf',
  RTF: 'application/rtf',
  HTML: 'text/html',
  TEXT: 'text/plain',
  TXT: 'text/plain',
  XML: 'application/xml',
  JPEG: 'image/jpeg',
  JPG: 'image/jpeg',
  PNG: 'image/png',
  TIFF: 'image/tiff',
};

/**
 * An OBX that carries a document: ED (embedded data) or RP (a pointer), or any value shaped as
 * ED (source^type^subtype^Base64^data), as some UK genomics feeds send under OBX-2 `CE`.
 */
export function isDocument(obx: Segment): boolean {
  const type = obx.get(2).toUpperCase();
  return type === 'ED' || type === 'RP' || /^base64$/i.test(obx.get(5, 4));
}

/** An ED field (source^type^subtype^encoding^data) as an attachment; RP as a URL. */
export function embeddedDocument(ctx: MappingContext, obx: Segment): Attachment | undefined {
  if (obx.get(2).toUpperCase() === 'RP') {
    const url = obx.get(5, 1);
    return /^https?:\/\//.test(url) ? { url, title: ctx.coded(obx, 3)?.text ?? 'Report' } : undefined;
  }
  const subtype = obx.get(5, 3).toUpperCase();
  const type = obx.get(5, 2).toUpperCase();
  const encoding = obx.get(5, 4).toUpperCase();
  const data = obx.raw(5, 5).replace(/\s+/g, '');
  if (!data) return undefined;
  const contentType = subtype.includes('/')
    ? subtype.toLowerCase()
    : (MIME[subtype] ?? MIME[type] ?? 'application/octet-stream');
  if (encoding === 'BASE64' || encoding === 'B64' || encoding === '') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data)) {
      ctx.problems.push({ message: `${obx.at}-5 is not valid base64`, expression: `${obx.at}-5` });
      return undefined;
    }
    return { contentType, data, title: ctx.coded(obx, 3)?.text ?? 'Report' };
  }
  if (encoding === 'A') return { contentType, data: Buffer.from(obx.get(5, 5)).toString('base64') };
  ctx.problems.push({
    message: `${obx.at}-5.4 encoding ${encoding} is not supported (send Base64)`,
    expression: `${obx.at}-5`,
  });
  return undefined;
}
