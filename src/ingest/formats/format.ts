/**
 * A wire format is a parser and a mapper, nothing else: the parser turns what a source sends into
 * a parsed form (or a SharedcareError naming every place that is wrong), the mapper turns that
 * into FHIR entries for the one intake pipeline (../pipeline/run.ts).
 */
import type { SourceSystem } from '../../region/index.ts';
import type { Entry } from '../parse.ts';

export interface IntakeFormat<Parsed> {
  name: string;
  parse(text: string): Parsed;
  map(parsed: Parsed, source: SourceSystem): Entry[];
}
