/**
 * Parsing what a source sends into entries, at the edge: a FHIR Bundle (transaction, batch or
 * collection), a single resource, or NDJSON. Every problem names where it is ("Bundle.entry[3]",
 * "line 7") so the sender can fix it.
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { Problem } from '../errors/index.ts';
import { SharedcareError } from '../errors/index.ts';
import { isR4ResourceType, parseKeepingDecimals } from '../fhir/index.ts';
import { conditionalKey, type ConditionalKey } from './conditional-create.ts';
import { localIdOf } from './references.ts';

export interface Entry {
  /** where the entry is, for messages: "Bundle.entry[3]" or "line 7" */
  at: string;
  fullUrl?: string;
  /** absent for DELETE */
  resource?: Resource;
  method: 'PUT' | 'POST' | 'DELETE';
  /** for DELETE: the resource named in request.url */
  target?: { type: string; id: string };
  /** a conditional create's identifier (`request.ifNoneExist`, conditional-create.ts) */
  conditional?: ConditionalKey;
  /**
   * a conditional create's local id: as any POST's (its id, else its first identifier) until
   * intake finds the item it made before, then that item's
   */
  localId?: string;
  /**
   * a conditional create's own id, taken off its resource so that a re-send under a fresh id is
   * the same content; other entries of the request may still name it
   */
  senderId?: string;
}

export const ACCEPTED_BUNDLE_TYPES = ['transaction', 'batch', 'collection'] as const;

const NDJSON_TYPES = ['application/fhir+ndjson', 'application/x-ndjson', 'application/ndjson'];

export function isNdjson(contentType: string | undefined): boolean {
  const base = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return NDJSON_TYPES.includes(base);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkResourceShape(value: unknown, at: string, problems: Problem[]): value is Resource {
  if (!isObject(value)) {
    problems.push({ message: 'expected a FHIR resource (a JSON object)', expression: at });
    return false;
  }
  if (typeof value.resourceType !== 'string' || !isR4ResourceType(value.resourceType)) {
    problems.push({
      message: 'resourceType is missing or not a FHIR R4 resource type',
      expression: `${at}.resourceType`,
    });
    return false;
  }
  return true;
}

/** Bundle-level elements that intake reads: fullUrl (unique, FHIR's bdl-7) and request. */
function checkEntryShape(
  e: Record<string, unknown>,
  at: string,
  seen: Set<string>,
  problems: Problem[],
): boolean {
  const before = problems.length;
  if (e.fullUrl !== undefined) {
    if (typeof e.fullUrl !== 'string' || e.fullUrl.length === 0)
      problems.push({ message: 'fullUrl must be a string', expression: `${at}.fullUrl` });
    else if (seen.has(e.fullUrl))
      problems.push({
        message: "fullUrl is the same as an earlier entry's; fullUrls must be unique in a Bundle",
        expression: `${at}.fullUrl`,
      });
    else seen.add(e.fullUrl);
  }
  const request = e.request as Record<string, unknown> | undefined;
  if (request !== undefined) {
    if (!isObject(request))
      problems.push({ message: 'request must be an object', expression: `${at}.request` });
    else
      for (const k of ['method', 'url'] as const)
        if (request[k] !== undefined && typeof request[k] !== 'string')
          problems.push({ message: `request.${k} must be a string`, expression: `${at}.request.${k}` });
  }
  return problems.length === before;
}

/** `inexact`: the guard found a number to keep as spelled (decimals.ts) */
export function parseNdjson(text: string, inexact = false): Entry[] {
  const problems: Problem[] = [];
  const entries: Entry[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const trimmed = line.trim();
    if (!trimmed) return;
    const at = `line ${i + 1}`;
    let value: unknown;
    try {
      value = parseKeepingDecimals(trimmed, inexact);
    } catch (err) {
      const tooLarge = err instanceof SharedcareError; // a number that is not finite (decimals.ts)
      problems.push({
        message: tooLarge ? 'a number is too large for FHIR' : 'not valid JSON',
        expression: at,
      });
      return;
    }
    if (checkResourceShape(value, at, problems)) entries.push({ at, resource: value, method: 'PUT' });
  });
  if (problems.length > 0)
    throw new SharedcareError('invalid-resource', 'NDJSON has lines that are not FHIR resources', problems);
  if (entries.length === 0) throw new SharedcareError('invalid-request', 'the request has no resources');
  return entries;
}

function deleteTarget(url: unknown): { type: string; id: string } | undefined {
  if (typeof url !== 'string') return undefined;
  const m = /^(?:.*\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(url);
  return m && isR4ResourceType(m[1]!) ? { type: m[1]!, id: m[2]! } : undefined;
}

/** The type and id a RESTful URL names (`https://…/fhir/Patient/123`, `Patient/123`), if it names one. */
const RESTFUL = /^(?:https?:\/\/\S+\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/**
 * An entry whose fullUrl or PUT url names another resource than the one it carries (FHIR: they
 * must agree). Taken as sent, references to the fullUrl and references to the id went to different
 * records, and could land on different people.
 */
function namesDisagree(
  e: BundleEntry,
  resource: { resourceType: string; id?: unknown },
  method: 'PUT' | 'POST',
  at: string,
): Problem | undefined {
  const carried = `${resource.resourceType}${typeof resource.id === 'string' ? `/${resource.id}` : ''}`;
  const check = (url: string | undefined, where: string): Problem | undefined => {
    const m = url === undefined ? null : RESTFUL.exec(url);
    if (!m) return undefined;
    const [, type, id] = m;
    if (type === resource.resourceType && (typeof resource.id !== 'string' || id === resource.id))
      return undefined;
    return {
      message: `${where} names ${type}/${id} but the resource is ${carried}; they must name the same resource`,
      expression: `${at}.${where}`,
    };
  };
  if (e.fullUrl && /^https?:/.test(e.fullUrl)) {
    const p = check(e.fullUrl, 'fullUrl');
    if (p) return p;
  }
  return method === 'PUT' ? check(e.request?.url, 'request.url') : undefined;
}

function plainEntry(at: string, method: 'PUT' | 'POST', resource: Resource, fullUrl?: string): Entry {
  return { at, method, resource, ...(fullUrl ? { fullUrl } : {}) };
}

/** A conditional create, named as any POST is for now, its own id kept apart (Entry.senderId). */
function conditionalEntry(
  at: string,
  resource: Resource,
  fullUrl: string | undefined,
  key: ConditionalKey,
): Entry {
  const localId = localIdOf(resource, fullUrl);
  const senderId = typeof resource.id === 'string' ? resource.id : undefined;
  if (senderId !== undefined) delete resource.id;
  return {
    ...plainEntry(at, 'POST', resource, fullUrl),
    conditional: key,
    ...(localId !== undefined ? { localId } : {}),
    ...(senderId !== undefined ? { senderId } : {}),
  };
}

/** Whether an earlier entry of the request is a conditional create of the same type and identifier. */
function twice(seen: Set<string>, type: string, key: ConditionalKey): boolean {
  const k = `${type}|${key.system}|${key.value}`;
  if (seen.has(k)) return true;
  seen.add(k);
  return false;
}

export function parseJson(value: unknown): Entry[] {
  const problems: Problem[] = [];
  if (!checkResourceShape(value, 'Bundle', problems))
    throw new SharedcareError('invalid-resource', 'not a FHIR resource', problems);
  if (value.resourceType !== 'Bundle') return [{ at: value.resourceType, resource: value, method: 'PUT' }];
  const bundle = value as Bundle;
  if (!ACCEPTED_BUNDLE_TYPES.includes(bundle.type as (typeof ACCEPTED_BUNDLE_TYPES)[number])) {
    throw new SharedcareError('invalid-resource', 'unsupported Bundle type', [
      {
        message: `Bundle.type must be one of ${ACCEPTED_BUNDLE_TYPES.join(', ')} (got ${JSON.stringify(bundle.type ?? null)})`,
        expression: 'Bundle.type',
      },
    ]);
  }
  if (!Array.isArray(bundle.entry) || bundle.entry.length === 0) {
    throw new SharedcareError('invalid-request', 'the Bundle has no entries', [
      { message: 'the Bundle has no entries', expression: 'Bundle.entry' },
    ]);
  }
  const entries: Entry[] = [];
  const fullUrls = new Set<string>();
  const conditionals = new Set<string>();
  bundle.entry.forEach((e: BundleEntry, i) => {
    const at = `Bundle.entry[${i}]`;
    if (e === null || typeof e !== 'object' || Array.isArray(e)) {
      problems.push({ message: 'an entry must be an object', expression: at });
      return;
    }
    if (!checkEntryShape(e as Record<string, unknown>, at, fullUrls, problems)) return;
    const method = (e.request?.method ?? (bundle.type === 'collection' ? 'PUT' : undefined)) as
      string | undefined;
    if (bundle.type !== 'collection' && !e.request) {
      problems.push({
        message: `a ${bundle.type} entry needs request.method and request.url`,
        expression: `${at}.request`,
      });
      return;
    }
    if (method === 'DELETE') {
      const target = deleteTarget(e.request?.url);
      if (!target)
        problems.push({
          message: 'DELETE needs request.url of the form Type/id',
          expression: `${at}.request.url`,
        });
      else entries.push({ at, method: 'DELETE', target, ...(e.fullUrl ? { fullUrl: e.fullUrl } : {}) });
      return;
    }
    if (method !== 'PUT' && method !== 'POST') {
      problems.push({
        message: `request.method ${method} is not accepted (use POST, PUT or DELETE)`,
        expression: `${at}.request.method`,
      });
      return;
    }
    if (checkResourceShape(e.resource, `${at}.resource`, problems)) {
      const disagree = namesDisagree(e, e.resource, method, at);
      const conditional =
        method === 'POST' && e.request?.ifNoneExist !== undefined
          ? conditionalKey(e.request.ifNoneExist, e.resource, at)
          : undefined;
      if (disagree) problems.push(disagree);
      else if (conditional && 'problem' in conditional) problems.push(conditional.problem);
      else if (conditional && twice(conditionals, e.resource.resourceType, conditional.key))
        problems.push({
          message:
            `another entry names the same ifNoneExist identifier (${conditional.key.system}|${conditional.key.value}); send the ${e.resource.resourceType} once`.slice(
              0,
              300,
            ),
          expression: `${at}.request.ifNoneExist`,
        });
      else
        entries.push(
          conditional
            ? conditionalEntry(at, e.resource, e.fullUrl, conditional.key)
            : plainEntry(at, method, e.resource, e.fullUrl),
        );
    }
  });
  if (problems.length > 0)
    throw new SharedcareError('invalid-resource', 'the Bundle has invalid entries', problems);
  return entries;
}
