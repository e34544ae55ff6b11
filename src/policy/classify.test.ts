import { describe, expect, it } from 'vitest';
import { DEFAULT_SENSITIVE_CODES, SHIPPED_SENSITIVE_LISTS } from '../config/index.ts';
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
    // the same systems however a feed spells them (shapes an outside pass sent, 2026-12-07)
    [['https://snomed.info/sct|86406008'], [], ['hiv_aids']],
    [['HTTP://SNOMED.INFO/SCT|86406008'], [], ['hiv_aids']],
    [['http://snomed.info/sct/900000000000207008|86406008'], [], ['hiv_aids']],
    [['http://snomed.info/sct/83821000000107/version/20240925|86406008'], [], ['hiv_aids']],
    [['urn:oid:2.16.840.1.113883.6.96|86406008'], [], ['hiv_aids']],
    [['urn:oid:2.16.840.1.113883.6.3|B20'], [], ['hiv_aids']],
    [['https://hl7.org/fhir/sid/icd-10/|B20'], [], ['hiv_aids']],
    [[], ['http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R'], ['restricted']],
    [[], ['http://terminology.hl7.org/CodeSystem/v3-ActCode|STD'], ['sexually_transmitted_disease']],
    // not sensitive
    [[`${SNOMED}|38341003`], [], []],
    [[`${ICD10}|B2`], [], []], // shorter than any listed prefix
    [[`${ICD10}|I10`], [], []],
    [[`http://example.org/other|86406008`], [], []], // same code, other system
    [['http://snomed.info/sct-other|86406008'], [], []],
    [['urn:oid:2.16.840.1.113883.6.1|86406008'], [], []], // LOINC's OID: not a SNOMED code
    [[], ['http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N'], []],
  ])('%j %j → %j', (codes, security, expected) => {
    expect(classify(codes, security)).toEqual(expected);
  });
});

describe('the shipped lists, whatever spelling of a system a feed sends', () => {
  const shipped = createPolicy(SHIPPED_SENSITIVE_LISTS);
  it.each([
    'http://loinc.org|20447-9',
    'http://loinc.org/|20447-9',
    'https://loinc.org|20447-9',
    'urn:oid:2.16.840.1.113883.6.1|20447-9',
    'HTTPS://SNOMED.INFO/SCT/999000041000000102|86406008',
  ])('%s is withheld', (code) => {
    expect(shipped.classify([code], [])).toContain('hiv_aids');
  });
});
