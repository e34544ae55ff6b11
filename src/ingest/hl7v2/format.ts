/**
 * HL7 v2 (ER7) as an intake format: parsed by message.ts (segments, fields, escapes, character sets), mapped
 * message type by message type by map.ts, with the source's local code mappings.
 */
import type { CodeMap } from './common.ts';
import { mapMessage } from './map.ts';
import { parseMessage, type ParsedMessage } from './message.ts';
import type { IntakeFormat } from '../formats/index.ts';

export function hl7v2Format(codeMaps: Record<string, CodeMap> = {}): IntakeFormat<ParsedMessage> {
  return {
    name: 'HL7 v2',
    parse: parseMessage,
    map: (parsed, source) => mapMessage(parsed, source.id, codeMaps[source.id]),
  };
}
