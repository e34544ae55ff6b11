/**
 * The session from the SMART launch (fhirclient's ready(): the code exchange, state kept in
 * sessionStorage only) and the few calls the viewer makes, all through Sharedcare's own API with
 * the session token: the gate decides, audits and answers; nothing is cached (no-store).
 */
import FHIR from 'fhirclient/lib/entry/browser';
import type { Bundle, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';

export interface Session {
  token: string;
  /** the record's id; absent when the launch named an NHS number no one in the record has */
  patientId?: string;
  fhirBase: string;
  /** the server's base URL (the FHIR base without /fhir) */
  base: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly outcome?: OperationOutcome,
  ) {
    super(message);
  }
}

let started: Promise<Session> | undefined;

/** Finishes the launch once per page (the code is single use), or resumes it from sessionStorage. */
export function startSession(): Promise<Session> {
  started ??= ready();
  return started;
}

/** Opened without a launch (no SMART state in the URL or this tab): `/` says what this is instead. */
function launched(): boolean {
  return (
    new URLSearchParams(window.location.search).has('state') || sessionStorage.getItem('SMART_KEY') !== null
  );
}

async function ready(): Promise<Session> {
  if (!launched()) {
    window.location.replace('/');
    return new Promise<Session>(() => undefined); // leaving the page
  }
  const client = await FHIR.oauth2.ready();
  const token = client.state.tokenResponse?.access_token;
  const patientId = client.patient.id;
  if (!token) throw new Error('the launch gave no session');
  const fhirBase = client.state.serverUrl.replace(/\/$/, '');
  return {
    token,
    ...(patientId ? { patientId: String(patientId) } : {}),
    fhirBase,
    base: fhirBase.replace(/\/fhir$/, ''),
  };
}

async function call<T>(s: Session, url: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(url, {
    ...init,
    cache: 'no-store',
    headers: {
      authorization: `Bearer ${s.token}`,
      accept: 'application/fhir+json, application/json',
      ...init.headers,
    },
  });
  const text = await res.text();
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const outcome =
      (body as { resourceType?: string })?.resourceType === 'OperationOutcome'
        ? (body as OperationOutcome)
        : undefined;
    const message =
      outcome?.issue
        ?.map((i) => i.diagnostics)
        .filter(Boolean)
        .join(' ') ||
      (body as { title?: string } | undefined)?.title ||
      `HTTP ${res.status}`;
    throw new ApiError(res.status, message, outcome);
  }
  return body as T;
}

export const readRecord = (s: Session) => call<Bundle>(s, `${s.fhirBase}/Patient/${s.patientId}/$reconciled`);

/** Who is signed in, as what, where, and what the role may see (GET /viewer/api/session). */
export interface ViewerContext {
  user: { id: string; name: string | null };
  role: { code: string; name: string; access: string | null };
  organisation: { ods: string; name: string | null; takesPart: boolean; views: boolean };
  /** the sections of the record the role may see, as the server names them */
  sections: string[];
  patient: { nhsNumber: string } | null;
}

export const readContext = (s: Session) => call<ViewerContext>(s, `${s.base}/viewer/api/session`);

let early: Promise<Bundle> | undefined;
let earlyContext: Promise<ViewerContext> | undefined;

/**
 * Starts the launch's token exchange and the record read at once, while React is still loading
 * (main.tsx), so the first screen waits for the slower of the two instead of both in turn.
 */
export function startEarly(): void {
  const session = startSession();
  early = session.then((s) => (s.patientId ? readRecord(s) : Promise.reject(new Error('no patient'))));
  earlyContext = session.then(readContext);
  // the app reads the outcomes; this only marks them as handled
  early.catch(() => undefined);
  earlyContext.catch(() => undefined);
}

/** The record read started by startEarly, once; later reads (after break glass) go anew. */
export function takeEarlyRecord(): Promise<Bundle> | undefined {
  const p = early;
  early = undefined;
  return p;
}

/** The context read started by startEarly, once. */
export function takeEarlyContext(): Promise<ViewerContext> | undefined {
  const p = earlyContext;
  earlyContext = undefined;
  return p;
}

/**
 * One item, read afresh when the clinician opens it (a document): the server audits it as a
 * document view, and answers 404 if it is no longer shared.
 */
export const readItem = (s: Session, type: string, id: string) =>
  call<Resource>(s, `${s.fhirBase}/${type}/${encodeURIComponent(id)}`);

/** The Patient alone: with no relationship, only its id and NHS number (to confirm who, before break glass). */
export const readPatient = (s: Session) => call<Patient>(s, `${s.fhirBase}/Patient/${s.patientId}`);

export const breakGlass = (s: Session, reason: string, note: string) =>
  call<unknown>(s, `${s.fhirBase}/Patient/${s.patientId}/$break-glass`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ reason, ...(note.trim() ? { note: note.trim() } : {}) }),
  });

export interface SourceFeed {
  id: string;
  name: string | null;
  mode: 'live' | 'batch';
  connectedSince: string;
  lastReceivedAt: string | null;
}

export interface Contributor {
  ods: string;
  name: string;
  kind: string | null;
  dataSet: { categories: string[]; declared: boolean; from: string | null };
  sources: SourceFeed[];
}

export const readSources = (s: Session) =>
  call<{ organisations: Contributor[] }>(s, `${s.base}/viewer/api/sources`);
