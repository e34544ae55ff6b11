/**
 * Which HL7 v2 messages Sharedcare takes and how each becomes FHIR: a message is mapped to
 * entries for the one intake pipeline, exactly like a FHIR Bundle's. A message type outside this
 * table is refused with AR; a message whose content is wrong is refused with AE naming the field.
 */
import { SharedcareError } from '../../errors/index.ts';
import type { Entry } from '../parse.ts';
import { MappingContext, type CodeMap } from './common.ts';
import { ADT_EVENTS, mapAdt } from './map-adt.ts';
import {
  mapAppointment,
  mapDocument,
  mapImmunisations,
  mapProblems,
  mapReferral,
  SIU_EVENTS,
} from './map-care.ts';
import { mapResults } from './map-results.ts';
import { segmentsOf, type ParsedMessage } from './message.ts';

type Mapper = (ctx: MappingContext) => void;

const MAPPERS: Record<string, { events: string[]; map: Mapper }> = {
  ADT: { events: ADT_EVENTS, map: mapAdt },
  ORU: { events: ['R01'], map: mapResults },
  MDM: { events: ['T02', 'T04', 'T08', 'T11'], map: mapDocument },
  SIU: { events: SIU_EVENTS, map: mapAppointment },
  REF: { events: ['I12'], map: mapReferral },
  VXU: { events: ['V04'], map: mapImmunisations },
  PPR: { events: ['PC1', 'PC2', 'PC3'], map: mapProblems },
};

/** "ADT^A01", … every message type and event Sharedcare takes. */
export const SUPPORTED_MESSAGES = Object.entries(MAPPERS).flatMap(([t, m]) =>
  m.events.map((e) => `${t}^${e}`),
);

/** Thrown for a message type Sharedcare does not take (answered AR, not AE). */
export class UnsupportedMessageError extends SharedcareError {}

export function isSupported(parsed: ParsedMessage): boolean {
  return MAPPERS[parsed.type]?.events.includes(parsed.event) ?? false;
}

/** The FHIR entries a message carries, or a SharedcareError listing every problem by field. */
export function mapMessage(parsed: ParsedMessage, sourceId: string, codeMap: CodeMap = {}): Entry[] {
  const mapper = MAPPERS[parsed.type];
  if (!mapper || !mapper.events.includes(parsed.event))
    throw new UnsupportedMessageError(
      'invalid-request',
      `message type ${parsed.type}^${parsed.event} is not supported`,
      [
        {
          message: `${parsed.type}^${parsed.event} is not supported (Sharedcare takes ${SUPPORTED_MESSAGES.join(', ')})`,
          expression: 'MSH-9',
        },
      ],
    );
  const ctx = new MappingContext(parsed, segmentsOf(parsed), sourceId, codeMap);
  mapper.map(ctx);
  if (ctx.problems.length > 0)
    throw new SharedcareError('invalid-resource', ctx.problems[0]!.message, ctx.problems);
  return ctx.entries;
}
