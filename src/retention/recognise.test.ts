import { describe, expect, it } from 'vitest';
import { classifyCode, createRecogniser } from './recognise.ts';

const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
const SCT = 'http://snomed.info/sct';

describe('maternity and mental-health recognition', () => {
  it.each([
    [`${ICD10}|O80.0`, true, false], // single spontaneous delivery
    [`${ICD10}|O800`, true, false], // the same without the dot
    [`http://hl7.org/fhir/sid/icd-10-uk|Z34.0`, true, false], // supervision of normal first pregnancy
    [`${ICD10}|Z38.0`, false, false], // a liveborn infant: the baby's record, not the mother's
    [`${ICD10}|f32.1`, false, true], // depressive episode, lower-case
    [`https://fhir.hl7.org.uk/Id/opcs-4|R17.1`, true, false], // elective caesarean
    [`${SCT}|77386006`, true, false],
    [`${SCT}|35489007`, false, true],
    [`${SCT}|38341003`, false, false], // hypertension
    [`http://loinc.org|F32`, false, false], // another system's code that happens to look like one
  ])('%s: maternity=%s, mental health=%s', (code, maternity, mentalHealth) => {
    expect(classifyCode(code)).toEqual({ maternity, mentalHealth });
  });

  it('counts organisations by registered kind and by configuration', () => {
    const r = createRecogniser(
      [
        { ods: 'RX2', kind: 'community-mental-health' },
        { ods: 'RX9', kind: 'maternity' },
        { ods: 'Y90001', kind: 'gp' },
        { ods: 'RX1', kind: null },
      ],
      { maternityOrganisations: ['RX1'], mentalHealthOrganisations: [] },
    );
    const m = r.matchers([`${SCT}|77386006`, `${SCT}|38341003`, `${ICD10}|F20`]);
    expect(m.maternity).toEqual({ organisations: ['RX1', 'RX9'], codes: [`${SCT}|77386006`] });
    expect(m.mentalHealth).toEqual({ organisations: ['RX2'], codes: [`${ICD10}|F20`] });
  });
});
