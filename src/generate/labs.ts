/**
 * Pathology: one DiagnosticReport per panel with its numeric Observation results (UCUM units,
 * reference ranges, H/L interpretation). Used by the acute trust's lab and the private lab.
 */
import type { DiagnosticReport, Encounter, Observation, Reference } from '@medplum/fhirtypes';
import { referenceTo } from './clinical-build.ts';
import {
  toCoding,
  formatInstant,
  referenceOrg,
  toQuantity,
  toSnomed,
  type SourceContext,
} from './fhir-build.ts';
import { LOINC, type Analyte, type Panel } from './hospital-codes.ts';

const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const V2_0074 = 'http://terminology.hl7.org/CodeSystem/v2-0074';

export interface LabOptions {
  encounter?: Reference<Encounter>;
  /** 0 for a well person; towards 1 the results drift out of range more often. */
  illness: number;
}

function drawValue(ctx: SourceContext, a: Analyte, illness: number): number {
  const mid = (a.low + a.high) / 2;
  const spread = (a.high - a.low) / 4;
  let v = ctx.rng.normal(mid, spread);
  if (ctx.rng.chance(illness * 0.4)) v += (ctx.rng.chance(0.5) ? 1 : -0.6) * spread * ctx.rng.between(2, 5);
  const scale = 10 ** a.decimals;
  return Math.max(0, Math.round(v * scale) / scale);
}

function addResult(
  ctx: SourceContext,
  a: Analyte,
  t: number,
  issuedMs: number,
  options: LabOptions,
): Observation {
  const value = drawValue(ctx, a, options.illness);
  const obs: Observation = {
    resourceType: 'Observation',
    id: ctx.nextId(),
    meta: ctx.meta(issuedMs),
    status: 'final',
    category: [{ coding: [toCoding(OBS_CATEGORY, 'laboratory', 'Laboratory')] }],
    code: { coding: [toCoding(LOINC, a.code, a.display)], text: a.display },
    subject: ctx.patientRef,
    effectiveDateTime: formatInstant(t),
    issued: formatInstant(issuedMs),
    valueQuantity: toQuantity(value, a.unit),
    referenceRange: [{ low: toQuantity(a.low, a.unit), high: toQuantity(a.high, a.unit) }],
  };
  if (options.encounter) obs.encounter = options.encounter;
  if (value > a.high || value < a.low) {
    const code = value > a.high ? 'H' : 'L';
    obs.interpretation = [{ coding: [toCoding(INTERPRETATION, code, code === 'H' ? 'High' : 'Low')] }];
  }
  return ctx.add(obs);
}

/** Writes a report and its results; returns the report. Results come first so references point back. */
export function addLabReport(
  ctx: SourceContext,
  panel: Panel,
  t: number,
  options: LabOptions,
): DiagnosticReport {
  const issuedMs = Math.min(ctx.now, t + ctx.rng.between(2, 30) * 3_600_000);
  const issued = formatInstant(issuedMs);
  const results = panel.analytes.map((a) => referenceTo(addResult(ctx, a, t, issuedMs, options)));
  const report: DiagnosticReport = {
    resourceType: 'DiagnosticReport',
    id: ctx.nextId(),
    meta: ctx.meta(issuedMs),
    status: 'final',
    category: [{ coding: [toCoding(V2_0074, 'LAB', 'Laboratory')] }],
    code: toSnomed(panel),
    subject: ctx.patientRef,
    effectiveDateTime: formatInstant(t),
    issued,
    performer: [referenceOrg(ctx.org)],
    result: results,
  };
  if (options.encounter) report.encounter = options.encounter;
  return ctx.add(report);
}
