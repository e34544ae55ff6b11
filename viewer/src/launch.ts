/**
 * /viewer/launch: the SMART EHR launch. The clinical system opens this page with ?iss=&launch=
 * (an opaque, single-use launch id it registered over the back channel); the SMART client
 * (fhirclient) discovers the server, asks /oauth/authorize with PKCE and comes back to /viewer/
 * with a code. No second sign-in: the launch stands for the user the clinical system vouched for.
 */
import FHIR from 'fhirclient/lib/entry/browser';
import './styles/launch.css';

export const CLIENT_ID = 'sharedcare-viewer';
export const SCOPE = 'launch openid fhirUser patient/*.read';

const status = document.getElementById('launch-status')!;
const params = new URLSearchParams(location.search);

/**
 * What a clinical system (or the development one, /dev/ehr/open) could not launch, by a known code:
 * the page says it plainly; it never shows text taken from the address.
 */
const PROBLEMS: Record<string, string> = {
  'nhs-number-invalid':
    'The NHS number is not valid: it fails the check digit, so it cannot be anyone’s. Check the number in your clinical system and open the record again.',
};

const problem = params.get('problem');
if (problem && Object.hasOwn(PROBLEMS, problem)) {
  status.textContent = PROBLEMS[problem]!;
} else if (!params.get('iss') || !params.get('launch')) {
  status.textContent =
    'This page opens a record from your clinical system. Open the Shared Care Record from the patient’s record there.';
} else {
  // sessionStorage only (fhirclient's default): nothing outlives the browser tab
  FHIR.oauth2
    .authorize({ clientId: CLIENT_ID, scope: SCOPE, redirectUri: './', pkceMode: 'required' })
    .catch((err: unknown) => {
      status.textContent = `The record could not be opened: ${err instanceof Error ? err.message : String(err)}. Open it again from your clinical system.`;
    });
}
