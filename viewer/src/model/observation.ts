/** Results: an Observation's value (numbers for the trend chart), whether it is abnormal, its kind. */
import type { DiagnosticReport, Observation } from '@medplum/fhirtypes';
import { conceptText, formatQuantity } from './format.ts';
import type { Description, NumericValue } from './item.ts';

const code = (cc: { coding?: { code?: string }[] } | undefined) => cc?.coding?.[0]?.code ?? '';

export function observationValue(o: Observation): Pick<Description, 'value' | 'numeric' | 'abnormal'> {
  const name = conceptText(o.code);
  const range = o.referenceRange?.[0];
  const numeric: NumericValue[] = [];
  const push = (n: string, q: Observation['valueQuantity'], r = range) => {
    if (q?.value === undefined) return;
    numeric.push({
      name: n,
      value: q.value,
      unit: q.unit ?? q.code ?? '',
      ...(r?.low?.value !== undefined ? { low: r.low.value } : {}),
      ...(r?.high?.value !== undefined ? { high: r.high.value } : {}),
    });
  };
  let value = '';
  if (o.valueQuantity) {
    value = formatQuantity(o.valueQuantity);
    push(name, o.valueQuantity);
  } else if (o.valueString) value = o.valueString;
  else if (o.valueInteger !== undefined) value = String(o.valueInteger);
  else if (o.valueRatio)
    value = `${o.valueRatio.numerator?.value ?? ''}:${o.valueRatio.denominator?.value ?? ''}`;
  else if (o.valueRange)
    value = `${o.valueRange.low?.value ?? ''}–${formatQuantity(o.valueRange.high ?? {})}`.trim();
  else if (o.valueCodeableConcept) value = conceptText(o.valueCodeableConcept);
  else if (o.valueBoolean !== undefined) value = o.valueBoolean ? 'Yes' : 'No';
  else if (o.component?.length) {
    const qs = o.component.map((c) => c.valueQuantity);
    const units = new Set(qs.map((q) => q?.unit));
    value =
      units.size === 1 && qs.every((q) => q?.value !== undefined)
        ? `${qs.map((q) => q!.value).join('/')} ${qs[0]?.unit ?? ''}`.trim()
        : o.component.map((c) => `${conceptText(c.code)} ${formatQuantity(c.valueQuantity)}`).join(', ');
    for (const c of o.component) push(conceptText(c.code), c.valueQuantity, c.referenceRange?.[0]);
  }
  const interp = code(o.interpretation?.[0]);
  const outside = numeric.some(
    (n) => (n.low !== undefined && n.value < n.low) || (n.high !== undefined && n.value > n.high),
  );
  const abnormal = outside || ['H', 'L', 'HH', 'LL', 'A', 'AA'].includes(interp);
  return { value, ...(numeric.length ? { numeric } : {}), ...(abnormal ? { abnormal } : {}) };
}

export function categoryKind(r: Observation | DiagnosticReport): string {
  const codes = (r.category ?? []).flatMap((c) => c.coding ?? []).map((c) => c.code ?? '');
  if (codes.some((c) => ['RAD', 'imaging', 'RX', 'CT', 'MR', 'US'].includes(c))) return 'Radiology';
  if (codes.some((c) => ['LAB', 'laboratory', 'HM', 'CH', 'MB'].includes(c))) return 'Pathology';
  if (codes.includes('vital-signs')) return 'Observation';
  if (codes.includes('survey')) return 'Assessment';
  return r.resourceType === 'DiagnosticReport' ? 'Report' : 'Observation';
}
