/** In-process HTTP helpers over Fastify's inject (no socket), for the project's tests. */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { AppHandle, TestRegion } from './kit.ts';

export interface Reply<T = unknown> {
  status: number;
  body: T;
  text: string;
}

export async function postFhir(
  r: AppHandle,
  sourceId: string,
  payload: unknown,
  contentType = 'application/fhir+json',
): Promise<Reply<Bundle & { issue?: { diagnostics?: string; expression?: string[] }[] }>> {
  const res = await r.app.server.inject({
    method: 'POST',
    url: '/ingest/fhir',
    headers: { authorization: `Bearer ${await r.sourceToken(sourceId)}`, 'content-type': contentType },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
  return { status: res.statusCode, body: JSON.parse(res.body), text: res.body };
}

/** An HL7 v2 message posted as a source; the answer is the ACK's text. */
export async function postHl7(r: AppHandle, sourceId: string, message: string): Promise<string> {
  const res = await r.app.server.inject({
    method: 'POST',
    url: '/ingest/hl7v2',
    headers: {
      authorization: `Bearer ${await r.sourceToken(sourceId)}`,
      'content-type': 'x-application/hl7-v2+er7',
    },
    payload: message,
  });
  return res.body;
}

export async function getAs<T = Bundle>(r: AppHandle, token: string, url: string): Promise<Reply<T>> {
  const res = await r.app.server.inject({
    method: 'GET',
    url,
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    status: res.statusCode,
    body: res.body ? (JSON.parse(res.body) as T) : (undefined as T),
    text: res.body,
  };
}

/** Finds a person by NHS number as a clinician at the hospital and returns their Patient id. */
export async function personIdFor(r: TestRegion, nhs: string): Promise<string> {
  const token = await r.userToken('finder', 'RX1');
  const res = await getAs<Bundle>(
    r,
    token,
    `/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${nhs}`,
  );
  const id = res.body.entry?.[0]?.resource?.id;
  if (!id) throw new Error(`no person for ${nhs}: ${res.text}`);
  return id;
}

/** $everything as a clinician at the hospital: the clinical items (Patient and notices excluded). */
export async function everything(
  r: AppHandle,
  personId: string,
  token?: string,
): Promise<{ status: number; items: Resource[]; bundle: Bundle }> {
  const res = await getAs<Bundle>(
    r,
    token ?? (await r.userToken('dr.reader', 'Y90001')),
    `/fhir/Patient/${personId}/$everything`,
  );
  const items = (res.body.entry ?? [])
    .filter((e) => e.search?.mode === 'match')
    .map((e) => e.resource!) as Resource[];
  return { status: res.status, items, bundle: res.body };
}

export async function count(r: TestRegion, table: string): Promise<number> {
  const { rows } = await r.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]!.n;
}

/**
 * Every route the server has, as "METHOD /path/:param" (HEAD left out), read from Fastify's route
 * tree: tests that must cover every route of a kind compare their table with this.
 */
export async function listRoutes(r: TestRegion): Promise<string[]> {
  await r.app.server.ready();
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of r.app.server.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)(?:[├└]── )?(\S+) \(([^)]*)\)$/.exec(line.replace(/\u00a0/g, ' '));
    if (!m) continue;
    const depth = m[1]!.length / 4 + (line.includes('──') ? 1 : 0);
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + m[2]!;
    stack[depth] = path;
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push(`${method} ${path}`);
  }
  return out;
}
