/**
 * Objections as FHIR R4 Consent resources (scope patient-privacy, provision type deny), so that a
 * region's other systems can read the objection register in the standard shape. A withdrawn
 * objection is an inactive Consent whose provision period has ended; an override shows as a nested
 * permit provision for its period. Nothing here reveals withheld data: only what was objected to.
 */
import type { Consent, ConsentProvision } from '@medplum/fhirtypes';
import { ODS } from './code-systems.ts';
import type { Objection } from './objections.ts';
import type { Override } from './overrides.ts';

/** Sharedcare's own code system for the sections a category objection names. */
export const SECTION_SYSTEM = 'https://sharedcare.dev/fhir/CodeSystem/record-section';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

/**
 * What a reader's copy must not name: an organisation whose every item is never shared (naming it
 * would say the person attends it), and which items an item objection covers (the record's notices
 * say only "some specific items"). The register itself (administrators, the DPO) is not redacted.
 */
export interface ConsentRedaction {
  neverSharedOrganisation: (ods: string) => boolean;
}

const organisationRef = (ods: string, r?: ConsentRedaction) =>
  r?.neverSharedOrganisation(ods)
    ? { display: 'an organisation' }
    : { identifier: { system: ODS, value: ods } };

function scopeProvision(o: Objection, r?: ConsentRedaction): Partial<ConsentProvision> {
  switch (o.scope) {
    case 'organisation':
      // the organisation that holds the data: its custodian (v3 ParticipationType CST)
      return {
        actor: [
          {
            role: {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'CST' }],
            },
            reference: organisationRef(o.target!, r),
          },
        ],
      };
    case 'category':
      return { code: [{ coding: [{ system: SECTION_SYSTEM, code: o.target! }] }] };
    case 'item':
      return {
        data: [
          { meaning: 'instance', reference: r ? { display: 'specific items' } : { reference: o.target! } },
        ],
      };
    default:
      return {};
  }
}

export function objectionToConsent(
  o: Objection,
  overrides: Override[] = [],
  redact?: ConsentRedaction,
): Consent {
  const mine = overrides.filter((v) => v.objectionId === o.id);
  return {
    resourceType: 'Consent',
    id: o.id,
    status: o.withdrawnAt ? 'inactive' : 'active',
    scope: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }],
    },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }],
    patient: { reference: `Patient/${o.personId}` },
    dateTime: o.recordedAt,
    ...(o.recorderOrg ? { organization: [organisationRef(o.recorderOrg, redact)] } : {}),
    ...(o.requestSource || o.requestedOn
      ? {
          sourceAttachment: {
            title: `Requested${o.requestedOn ? ` on ${o.requestedOn}` : ''}${o.requestSource ? ` by ${o.requestSource}` : ''}`,
          },
        }
      : {}),
    policyRule: {
      coding: [{ system: ACT_REASON, code: 'TREAT' }],
      text: 'objection to sharing for direct care',
    },
    provision: {
      type: 'deny',
      period: { start: o.recordedAt, ...(o.withdrawnAt ? { end: o.withdrawnAt } : {}) },
      ...scopeProvision(o, redact),
      ...(mine.length
        ? {
            provision: mine.map((v) => ({
              type: 'permit' as const,
              period: { start: v.startsAt, end: v.endedAt ?? v.endsAt },
              purpose: [
                {
                  system: ACT_REASON,
                  code: v.ground === 'safeguarding' ? 'PROTECT' : 'PUBHLTH',
                  display: v.ground,
                },
              ],
              ...(v.forOrg
                ? {
                    actor: [
                      {
                        role: {
                          coding: [
                            {
                              system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
                              code: 'IRCP',
                            },
                          ],
                        },
                        reference: organisationRef(v.forOrg, redact),
                      },
                    ],
                  }
                : {}),
            })),
          }
        : {}),
    },
  };
}
