import { describe, expect, it } from 'vitest';
import { DEFAULT_SENSITIVE_CODES } from '../config/index.ts';
import { createPolicy } from './index.ts';

const SNOMED = 'http://snomed.info/sct';
const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
const { classify, problems, codeCount } = createPolicy([DEFAULT_SENSITIVE_CODES]);

describe('the project’s own never-shared code list', () => {
  it('loads cleanly', () => {
    expect(problems).toEqual([]);
    expect(codeCount).toBeGreaterThan(30);
  });

  it.each([
    [[`${SNOMED}|86406008`], [], ['hiv_aids']],
    [[`${ICD10}|B20`], [], ['hiv_aids']],
    [[`${ICD10}|B20.1`], [], ['hiv_aids']],
    [[`${ICD10}|b201`], [], ['hiv_aids']],
    [[`${ICD10}|A56.0`], [], ['sexually_transmitted_disease']],
    [[`${SNOMED}|52637005`], [], ['assisted_fertilisation']],
    [[`${SNOMED}|407374003`], [], ['gender_related_issues']],
    [[`${ICD10}|F64.0`], [], ['gender_related_issues']],
    [[`${SNOMED}|714812005`], [], ['termination_of_pregnancy']],
    [[`${SNOMED}|38341003`, `${SNOMED}|86406008`], [], ['hiv_aids']],
    [[], ['http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R'], ['restricted']],
    [[], ['http://terminology.hl7.org/CodeSystem/v3-ActCode|STD'], ['sexually_transmitted_disease']],
    // not sensitive
    [[`${SNOMED}|38341003`], [], []],
    [[`${ICD10}|B2`], [], []], // shorter than any listed prefix
    [[`${ICD10}|I10`], [], []],
    [[`http://example.org/other|86406008`], [], []], // same code, other system
    [[], ['http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N'], []],
  ])('%j %j → %j', (codes, security, expected) => {
    expect(classify(codes, security)).toEqual(expected);
  });
});
