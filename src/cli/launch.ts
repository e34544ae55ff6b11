/**
 * `sharedcare launch-url`: does what a clinical system does when its user opens the shared care
 * record for the patient in front of them. It registers the launch with the running server over
 * the back channel (POST /launch, with the user's token from the development issuer) and prints the
 * viewer URL carrying only the opaque, single-use launch id.
 */
import { mintUserToken } from '../access/index.ts';
import { viewerLaunchUrl } from '../api/index.ts';
import type { Config } from '../config/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { noServer, serverUrl } from './server-file.ts';

export interface LaunchUrlRequest {
  user: string;
  org: string;
  role: string;
  nhs: string;
  name?: string;
  postcode?: string;
  /** where the server runs (default: the running server's announcement, else the configured URL) */
  server?: string;
}

export async function launchUrl(config: Config, secret: string, req: LaunchUrlRequest): Promise<string> {
  const base = serverUrl(config, req.server);
  const token = await mintUserToken(secret, {
    user: req.user,
    org: req.org,
    role: req.role,
    ...(req.name ? { name: req.name } : {}),
    ...(req.postcode ? { postcode: req.postcode } : {}),
  });
  let res: Response;
  try {
    res = await fetch(`${base}/launch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ patient: req.nhs }),
    });
  } catch {
    throw new SharedcareError('invalid-request', noServer(base));
  }
  const body = (await res.json().catch(() => ({}))) as {
    launch?: string;
    iss?: string;
    issue?: { diagnostics?: string }[];
  };
  if (!res.ok || !body.launch || !body.iss) {
    const why = body.issue?.map((i) => i.diagnostics).join('; ') || `HTTP ${res.status}`;
    throw new SharedcareError('invalid-request', `the server refused the launch: ${why}`);
  }
  return viewerLaunchUrl(base, body.iss, body.launch);
}
