/**
 * The notices that come with a record (the OperationOutcome entry of $everything, search mode
 * "outcome"): that this is not the full record, that access is by break glass, and what the person
 * has objected to. Classified by the issue's code, with the text as the server wrote it.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';

export type NoticeKind = 'break-glass' | 'objection' | 'withheld' | 'not-full-record' | 'other';

export interface Notice {
  kind: NoticeKind;
  text: string;
  /** an objection to one organisation's data: that organisation's ODS code */
  organisation?: string;
}

const OBJECTION_ORGANISATION = 'https://sharedcare.dev/fhir/StructureDefinition/objection-organisation';

export function noticesOf(outcome: OperationOutcome | undefined): Notice[] {
  return (outcome?.issue ?? []).map((issue) => {
    const text = issue.diagnostics ?? issue.details?.text ?? '';
    const coded = issue.details?.coding?.find((c) => c.system?.includes('sharedcare'))?.code;
    let kind: NoticeKind = 'other';
    if (coded === 'break-glass' || issue.code === 'security') kind = 'break-glass';
    else if (coded === 'withheld' || issue.code === 'suppressed') kind = 'withheld';
    else if (coded === 'objection' || /objected/i.test(text)) kind = 'objection';
    else if (coded === 'not-full-record' || /not the full record/i.test(text)) kind = 'not-full-record';
    const organisation = issue.extension?.find((e) => e.url === OBJECTION_ORGANISATION)?.valueIdentifier
      ?.value;
    return { kind, text, ...(organisation ? { organisation } : {}) };
  });
}

/** The refusal of a read (403): the text, and whether break glass may be asked for. */
export function refusalOf(outcome: OperationOutcome | undefined): { text: string; breakGlass: boolean } {
  const text = (outcome?.issue ?? []).map((i) => i.diagnostics ?? i.details?.text ?? '').join(' ');
  // the gate's refusal for "no legitimate relationship" says that breaking the glass is possible
  return { text, breakGlass: /break(ing)?( the)? glass/i.test(text) };
}
