/**
 * The patient banner: who this is, at a glance, from the combined Patient. It shows only what the
 * Patient resource contains: for a restricted person the gate leaves out address and telephone,
 * and the banner simply has no such line.
 */
import type { Address, Patient } from '@medplum/fhirtypes';
import { capitalise, formatAge, formatDate, formatNhsNumber } from '../model/format.ts';
import { generalPractitioners } from '../model/general-practitioner.ts';

const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const UNVERIFIED = 'https://sharedcare.dev/fhir/StructureDefinition/identity-unverified';
const CONFIDENTIALITY = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';

function nameOf(p: Patient): string {
  const n = p.name?.find((x) => x.use === 'official') ?? p.name?.[0];
  if (!n) return 'Name not shared';
  const family = (n.family ?? '').toUpperCase();
  const given = (n.given ?? []).join(' ');
  const prefix = n.prefix?.length ? ` (${n.prefix.join(' ')})` : '';
  return [family, given].filter(Boolean).join(', ') + prefix;
}

function addressOf(a: Address | undefined): string {
  if (!a) return '';
  return [...(a.line ?? []), a.city, a.district, a.postalCode].filter(Boolean).join(', ');
}

export function Banner({ patient }: { patient: Patient }) {
  const nhs = patient.identifier?.find((i) => i.system === NHS_NUMBER_SYSTEM)?.value;
  const address = addressOf(patient.address?.find((a) => a.use === 'home') ?? patient.address?.[0]);
  const phone = patient.telecom?.find((t) => t.system === 'phone')?.value;
  const gp = generalPractitioners(patient);
  const deceased = patient.deceasedDateTime ?? (patient.deceasedBoolean ? 'yes' : undefined);
  const unverified = patient.extension?.some((e) => e.url === UNVERIFIED && e.valueBoolean);
  const restricted = patient.meta?.security?.some(
    (c) => c.system === CONFIDENTIALITY && ['R', 'V'].includes(c.code ?? ''),
  );
  const facts: { id: string; label: string; value: string }[] = [];
  const fact = (id: string, label: string, value: string | undefined) => {
    if (value) facts.push({ id, label, value });
  };
  fact('nhs-number', 'NHS number', formatNhsNumber(nhs) || 'not known');
  if (patient.birthDate) {
    const age = formatAge(patient.birthDate, new Date(), patient.deceasedDateTime);
    fact('born', 'Born', `${formatDate(patient.birthDate)} (${age})`);
  }
  fact('gender', 'Gender', patient.gender && capitalise(patient.gender));
  fact('died', 'Died', deceased && (deceased === 'yes' ? 'yes' : formatDate(deceased)));
  fact('address', 'Address', address);
  fact('telephone', 'Telephone', phone);
  fact('gp', 'Registered GP', gp.practice);
  fact('usual-gp', 'Usual GP', gp.usualGp);
  return (
    <section className="sc-banner" aria-label="Patient" data-testid="banner">
      <h1 className="sc-banner__name">{patient.name ? nameOf(patient) : 'Name not shown'}</h1>
      {unverified && <strong className="sc-tag sc-tag--conflict">NHS number not verified</strong>}
      {restricted && (
        <strong className="sc-tag sc-tag--conflict" data-testid="restricted">
          Restricted record: address and contact details are not shown
        </strong>
      )}
      <dl className="sc-banner__facts">
        {facts.map(({ id, label, value }) => (
          <div key={id} data-fact={id}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
