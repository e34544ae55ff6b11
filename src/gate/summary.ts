/**
 * $summary: the person's patient summary as a FHIR document Bundle in the shape of the
 * International Patient Summary (IPS): a Composition (LOINC 60591-5) whose sections list the active
 * problems, current medicines, allergies, immunisations and recent results, each section's entries
 * being the shown items themselves, then the Patient and the items. What the reader may not see is
 * never chosen (the items come through the gate's read); the notices the record carries become the
 * summary's last section, so a summary never reads as the full record.
 */
import { randomUUID } from 'node:crypto';
import type { Composition, CompositionSection, OperationOutcome, Patient } from '@medplum/fhirtypes';
import type { ItemRow } from '../store/index.ts';

const LOINC = 'http://loinc.org';

interface SectionRule {
  title: string;
  loinc: string;
  types: string[];
  /** whether an item belongs in the section (the IPS: active problems, current medicines, …) */
  keep: (r: Record<string, unknown>) => boolean;
  /** at most this many, newest first */
  limit?: number;
}

const code = (v: unknown): string | undefined =>
  (v as { coding?: { code?: string }[] } | undefined)?.coding?.[0]?.code;

const INACTIVE = new Set(['inactive', 'resolved', 'remission']);

export const SUMMARY_SECTIONS: SectionRule[] = [
  {
    title: 'Allergies and intolerances',
    loinc: '48765-2',
    types: ['AllergyIntolerance'],
    keep: (r) => !INACTIVE.has(code(r.clinicalStatus) ?? '') && code(r.verificationStatus) !== 'refuted',
  },
  {
    title: 'Problems',
    loinc: '11450-4',
    types: ['Condition'],
    keep: (r) => !INACTIVE.has(code(r.clinicalStatus) ?? ''),
  },
  {
    title: 'Medications',
    loinc: '10160-0',
    types: ['MedicationStatement', 'MedicationRequest'],
    keep: (r) => ['active', 'intended', 'on-hold'].includes(String(r.status)),
  },
  {
    title: 'Immunizations',
    loinc: '11369-6',
    types: ['Immunization'],
    keep: (r) => r.status === 'completed',
  },
  {
    title: 'Results',
    loinc: '30954-2',
    types: ['Observation', 'DiagnosticReport'],
    keep: (r) => r.status !== 'cancelled' && r.status !== 'entered-in-error',
    limit: 25,
  },
];

export const SUMMARY_TYPES = [...new Set(SUMMARY_SECTIONS.flatMap((s) => s.types))];

const escapeXhtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function describe(r: Record<string, unknown>): string {
  const concept = (r.code ?? r.medicationCodeableConcept ?? r.vaccineCode) as
    { text?: string; coding?: { display?: string }[] } | undefined;
  return concept?.text ?? concept?.coding?.find((c) => c.display)?.display ?? String(r.resourceType);
}

const narrative = (lines: string[]) => ({
  status: 'generated' as const,
  div: `<div xmlns="http://www.w3.org/1999/xhtml">${
    lines.length
      ? `<ul>${lines.map((l) => `<li>${escapeXhtml(l)}</li>`).join('')}</ul>`
      : '<p>None shared.</p>'
  }</div>`,
});

/** Picks the summary's items from the shown rows (store order: newest first). */
export function chooseSummaryItems(rows: ItemRow[]): { section: SectionRule; rows: ItemRow[] }[] {
  const parsed = rows.map((row) => ({ row, r: JSON.parse(row.body) as Record<string, unknown> }));
  return SUMMARY_SECTIONS.map((section) => {
    const chosen = parsed.filter((p) => section.types.includes(p.row.resourceType) && section.keep(p.r));
    return { section, rows: chosen.slice(0, section.limit ?? chosen.length).map((p) => p.row) };
  });
}

export function summaryDocument(
  baseUrl: string,
  patient: Patient,
  sections: { section: SectionRule; rows: ItemRow[] }[],
  notices: OperationOutcome,
  now: Date,
): string {
  const compSections: CompositionSection[] = sections.map(({ section, rows }) => ({
    title: section.title,
    code: { coding: [{ system: LOINC, code: section.loinc }], text: section.title },
    text: narrative(rows.map((r) => describe(JSON.parse(r.body) as Record<string, unknown>))),
    ...(rows.length
      ? { entry: rows.map((r) => ({ reference: `${r.resourceType}/${r.id}` })) }
      : {
          emptyReason: {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/list-empty-reason', code: 'unavailable' },
            ],
            text: 'None shared with this reader',
          },
        }),
  }));
  compSections.push({
    title: 'About this summary',
    text: narrative((notices.issue ?? []).map((i) => i.diagnostics ?? '').filter(Boolean)),
  });
  const composition: Composition = {
    resourceType: 'Composition',
    id: randomUUID(),
    status: 'final',
    type: { coding: [{ system: LOINC, code: '60591-5', display: 'Patient summary Document' }] },
    subject: { reference: `Patient/${patient.id}` },
    date: now.toISOString(),
    author: [{ display: 'Sharedcare shared care record' }],
    title: 'Patient summary',
    section: compSections,
  };
  const entry = (type: string, id: string, body: string) =>
    `{"fullUrl":"${baseUrl}/${type}/${id}","resource":${body}}`;
  const seen = new Set<string>();
  const items = sections
    .flatMap((s) => s.rows)
    .filter((r) => !seen.has(r.id) && seen.add(r.id))
    .map((r) => entry(r.resourceType, r.id, r.body));
  const entries = [
    entry('Composition', composition.id!, JSON.stringify(composition)),
    entry('Patient', patient.id!, JSON.stringify(patient)),
    ...items,
  ];
  return `{"resourceType":"Bundle","identifier":{"system":"urn:ietf:rfc:3986","value":"urn:uuid:${randomUUID()}"},"type":"document","timestamp":"${now.toISOString()}","entry":[${entries.join(',')}]}`;
}
