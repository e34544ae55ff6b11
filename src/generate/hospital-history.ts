/**
 * What the hospital records of what the GP also holds. On admission the ward takes a medicines and
 * allergy history, so the same medicine and the same allergy reach the shared record from both
 * (the duplicates reconciliation joins: src/reconcile). Now and then the ward changes a dose, or a
 * drug challenge shows an allergy was not one: conflicts the record must show, not hide.
 * Drawn from a random stream of its own, so the rest of the region stays as it was.
 */
import type { AllergyIntolerance, MedicationStatement } from '@medplum/fhirtypes';
import { formatDate, formatInstant, toCoding, type SourceContext } from './fhir-build.ts';
import type { PersonPlan } from './plan.ts';
import type { Rng } from './random.ts';

const HOUR_MS = 3_600_000;
const ALLERGY_CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
const ALLERGY_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';

export function writeHospitalHistory(
  rng: Rng,
  gp: SourceContext,
  acute: SourceContext,
  plan: PersonPlan,
): void {
  const admission = plan.admissions.find(
    (a) => a.end !== undefined && a.start >= acute.from && a.end < acute.now,
  );
  if (!admission) return;
  const t = admission.start + 2 * HOUR_MS;
  const chronic = new Set(plan.conditions.flatMap((c) => c.meds.map((m) => m.code)));
  for (const r of gp.resources) {
    if (r.resourceType === 'MedicationStatement') {
      const code = r.medicationCodeableConcept?.coding?.[0]?.code ?? '';
      const started = r.effectivePeriod?.start ?? '9999';
      if (r.status !== 'active' || !chronic.has(code) || started > formatDate(t)) continue;
      const dose = r.dosage?.[0]?.text ?? '';
      acute.add<MedicationStatement>({
        resourceType: 'MedicationStatement',
        id: acute.nextId(),
        meta: acute.meta(t),
        status: 'active',
        ...(r.medicationCodeableConcept ? { medicationCodeableConcept: r.medicationCodeableConcept } : {}),
        subject: acute.patientRef,
        dateAsserted: formatInstant(t),
        dosage: [{ text: rng.chance(0.2) ? `Reduced on the ward: once a day (was ${dose})` : dose }],
      });
    }
    if (r.resourceType === 'AllergyIntolerance' && r.code) {
      const refuted = rng.chance(0.3);
      acute.add<AllergyIntolerance>({
        resourceType: 'AllergyIntolerance',
        id: acute.nextId(),
        meta: acute.meta(t),
        clinicalStatus: { coding: [toCoding(ALLERGY_CLINICAL, refuted ? 'inactive' : 'active')] },
        verificationStatus: { coding: [toCoding(ALLERGY_VERIFICATION, refuted ? 'refuted' : 'confirmed')] },
        ...(r.type ? { type: r.type } : {}),
        ...(r.category ? { category: r.category } : {}),
        code: r.code,
        patient: acute.patientRef,
        recordedDate: formatInstant(t),
        ...(refuted ? { note: [{ text: 'Drug challenge on the ward tolerated: not allergic.' }] } : {}),
      });
    }
  }
}
