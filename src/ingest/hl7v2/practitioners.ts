/**
 * The clinicians an HL7 v2 message names, in fields of type XCN: the attending, referring,
 * consulting and admitting doctors of a visit (PV1-7, -8, -9, -17), a letter's author (TXA-9,
 * else TXA-5), an appointment's clinician (AIP-3), a patient's usual GP (PD1-4) and a result's
 * responsible observer (OBX-16). Each one with an id becomes a Practitioner, kept as a directory
 * entry (served with the items that refer to it, `_include`, as one a FHIR source sends), and the
 * item refers to it with the name as display text. One named without an id is the display text
 * alone: nothing identifies it to keep.
 *
 * UK feeds send a doctor's GMC number (often as a consultant code, "C" and the seven digits) or a
 * GP's national code ("G" and seven digits) with the assigning authority GMC; these get the UK
 * Core identifier systems. Any other id is the source's own.
 */
import type { HumanName, Practitioner, Reference } from '@medplum/fhirtypes';
import { fhirId, type MappingContext } from './common.ts';
import type { Segment } from './message.ts';

export const GMC_NUMBER = 'https://fhir.hl7.org.uk/Id/gmc-number';
export const GMP_NUMBER = 'https://fhir.hl7.org.uk/Id/gmp-number';

/** Assigning authorities under which a GP's national code is sent (none named, or a national one). */
const NATIONAL = new Set(['', 'GMC', 'GMP', 'NHS']);

/**
 * The identifier an XCN's id (component 1) and assigning authority (9) make: a source that names
 * an authority of its own keeps its ids, even one shaped like a national code.
 */
function identifierOf(ctx: MappingContext, id: string, authority: string): { system: string; value: string } {
  const national = NATIONAL.has(authority.toUpperCase());
  if (/^G\d{7}$/.test(id) && national) return { system: GMP_NUMBER, value: id };
  const gmc = /^C?(\d{7})$/.exec(id);
  if (gmc && authority.toUpperCase() === 'GMC') return { system: GMC_NUMBER, value: gmc[1]! };
  const table = authority ? `practitioner:${encodeURIComponent(authority)}` : 'practitioner';
  return { system: `urn:sharedcare:source:${ctx.sourceId}:${table}`, value: id };
}

/** How an identifier without a name reads ("GMC 3456789"). */
function identifierText({ system, value }: { system: string; value: string }): string {
  if (system === GMC_NUMBER) return `GMC ${value}`;
  if (system === GMP_NUMBER) return `GP ${value}`;
  return `Clinician ${value}`;
}

/**
 * The name an XCN carries (family 2, given 3, middle 4, suffix 5, prefix 6) and how it reads; a
 * title alone is no name.
 */
function nameOf(seg: Segment, field: number, rep: number): { name?: HumanName; display: string } {
  const [family, given, middle, suffix, prefix] = [2, 3, 4, 5, 6].map((c) => seg.value(field, c, rep));
  const givens = [given, middle].filter((g): g is string => !!g);
  if (!family && givens.length === 0) return { display: '' };
  const display = [prefix, ...givens, family, suffix].filter(Boolean).join(' ');
  return {
    name: {
      ...(family ? { family } : {}),
      ...(givens.length ? { given: givens } : {}),
      ...(prefix ? { prefix: [prefix] } : {}),
      ...(suffix ? { suffix: [suffix] } : {}),
    },
    display,
  };
}

/** The Practitioners a message's mapping has added so far, by id. */
const addedTo = new WeakMap<MappingContext, Set<string>>();

/** Whether this message already has the Practitioner; marks it as added if not. */
function added(ctx: MappingContext, id: string): boolean {
  let ids = addedTo.get(ctx);
  if (!ids) addedTo.set(ctx, (ids = new Set()));
  if (ids.has(id)) return true;
  ids.add(id);
  return false;
}

/**
 * Every clinician of an XCN field (each repetition), as references; each one with an id is added
 * to the message's entries as a Practitioner (once, however often the message names it).
 */
export function practitionersIn(
  ctx: MappingContext,
  seg: Segment | undefined,
  field: number,
): Reference<Practitioner>[] {
  if (!seg) return [];
  const refs: Reference<Practitioner>[] = [];
  // a clinician repeated in the field is named once
  const seen = new Set<string>();
  const first = (key: string) => !seen.has(key) && !!seen.add(key);
  for (let rep = 0; rep < seg.repetitions(field); rep++) {
    // HL7's explicit null ("", sent routinely by PAS feeds) is empty (Segment.value)
    const id = seg.value(field, 1, rep);
    const authority = seg.value(field, 9, rep).split('&')[0]!.trim();
    const { name, display } = nameOf(seg, field, rep);
    if (!id) {
      // the type says a clinician is meant: a reader can tell the usual GP from the practice
      if (display && first(`name:${display}`)) refs.push({ type: 'Practitioner', display });
      continue;
    }
    const identifier = identifierOf(ctx, id, authority);
    // the system and value as a JSON pair: joined with a separator, two different clinicians
    // ("RX1" and "PAS-123", "RX1-PAS" and "123") made one id
    const practitionerId = fhirId('practitioner', JSON.stringify([identifier.system, identifier.value]));
    if (!first(practitionerId)) continue;
    if (!added(ctx, practitionerId)) {
      const practitioner: Practitioner = {
        resourceType: 'Practitioner',
        id: practitionerId,
        identifier: [identifier],
        ...(name ? { name: [name] } : {}),
      };
      ctx.add(`${seg.at}-${field}`, practitioner);
    }
    refs.push({
      reference: `Practitioner/${practitionerId}`,
      display: display || identifierText(identifier),
    });
  }
  return refs;
}
