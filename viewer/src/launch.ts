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

if (!params.get('iss') || !params.get('launch')) {
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
