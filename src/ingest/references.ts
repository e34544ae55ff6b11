/**
 * Resolving references inside what a source sends. A source names things by its own ids
 * ("Observation/123") or by bundle-local fullUrls ("urn:uuid:…"); Sharedcare serves them under its
 * own ids, derived deterministically from (source, type, local id) so that a reference resolves
 * the same way whether its target came in this request or an earlier one.
 */
import type { Resource } from '@medplum/fhirtypes';
import {
  deterministicUuid,
  DIRECTORY_ENTRY_EXTENSION,
  DIRECTORY_TYPES,
  isClinicalType,
  isR4ResourceType,
  ODS_SYSTEM,
  VALIDATED_TYPES,
} from '../fhir/index.ts';
import type { Entry } from './parse.ts';

export interface LocalRef {
  type: string;
  localId: string;
}

/**
 * Directory types whose resources are kept (src/store/directory.ts) so that `_include` can return
 * them; other directory types (Location, Device, …) stay display text only.
 */
export const KEPT_DIRECTORY_TYPES: readonly string[] = ['Practitioner', 'Medication'];

export function itemId(sourceId: string, type: string, localId: string): string {
  return deterministicUuid(`${sourceId}|${type}|${localId}`);
}

type Identified = { system?: string; value?: string };

/** The source's own id for a resource: its id, else its first identifier, else its fullUrl. */
export function localIdOf(resource: Resource, fullUrl: string | undefined): string | undefined {
  if (resource.id) return resource.id;
  // identifier is a list on most types and a single Identifier on some (QuestionnaireResponse, Composition)
  const ids = (resource as { identifier?: Identified[] | Identified }).identifier;
  const ident = (Array.isArray(ids) ? ids : ids ? [ids] : []).find((i) => i.value);
  if (ident) return `${ident.system ?? ''}|${ident.value}`;
  return fullUrl;
}

/** An entry's local id: the one its conditional create names (conditional-create.ts), else localIdOf's. */
export function entryLocalId(e: Entry): string | undefined {
  return e.localId ?? (e.resource ? localIdOf(e.resource, e.fullUrl) : e.fullUrl);
}

const CONDITIONAL = /^([A-Z][A-Za-z]+)\?identifier=([^&]+)$/;

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A token search value, "system|value" or "value" */
function splitToken(token: string): [string, string] {
  const bar = token.indexOf('|');
  return bar < 0 ? ['', token] : [token.slice(0, bar), token.slice(bar + 1)];
}

const RELATIVE = /^(?:https?:\/\/[^\s]+\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/** Index of what this request contains, to resolve references to it. */
export class RequestIndex {
  private byFullUrl = new Map<string, { ref: LocalRef; resource: Resource | undefined }>();
  private byLocal = new Map<string, Resource>();
  /** "Type|system|value" of every identifier a resource in the request carries */
  private byIdentifier = new Map<string, LocalRef>();
  /** the same without the type ("|system|value"): undefined where two types carry it */
  private byUntypedIdentifier = new Map<string, LocalRef | undefined>();
  /** "Type/id" of an entry whose local id is not its id (a conditional create) */
  private byRelative = new Map<string, LocalRef>();
  /** each entry's reference (one object, shared by the maps above, so that rename reaches all) */
  private refs = new Map<Entry, LocalRef>();

  constructor(entries: Entry[]) {
    for (const e of entries) {
      if (!e.resource) continue;
      // A type intake does not validate is not read: it is known by its fullUrl and id only.
      const validated = VALIDATED_TYPES.includes(e.resource.resourceType);
      const id = typeof e.resource.id === 'string' ? e.resource.id : undefined;
      const localId = validated ? entryLocalId(e) : (e.localId ?? id ?? e.fullUrl);
      if (!localId) continue;
      const ref = { type: e.resource.resourceType, localId };
      this.refs.set(e, ref);
      // a conditional create's own id still names it within the request ("Patient/{id}")
      if (e.senderId !== undefined) this.byRelative.set(`${ref.type}/${e.senderId}`, ref);
      const resource = validated ? e.resource : undefined;
      if (e.fullUrl) this.byFullUrl.set(e.fullUrl, { ref, resource });
      if (resource) this.byLocal.set(`${ref.type}/${localId}`, resource);
      const ids = (resource as { identifier?: Identified[] | Identified } | undefined)?.identifier;
      for (const i of Array.isArray(ids) ? ids : ids ? [ids] : [])
        if (i.value) {
          const key = `|${i.system ?? ''}|${i.value}`;
          this.byIdentifier.set(`${ref.type}${key}`, ref);
          const other = this.byUntypedIdentifier.get(key);
          this.byUntypedIdentifier.set(
            key,
            this.byUntypedIdentifier.has(key) && other?.type !== ref.type ? undefined : ref,
          );
        }
    }
  }

  /**
   * What a reference string points at, in the source's terms: a fullUrl in the request, a
   * RESTful id, or a conditional reference on an identifier of a resource in the request
   * (`Encounter?identifier=system|value`, as a transaction may name what it creates).
   */
  resolve(reference: string): LocalRef | undefined {
    const hit = this.byFullUrl.get(reference);
    if (hit) return hit.ref;
    const m = RELATIVE.exec(reference);
    if (m) return this.byRelative.get(`${m[1]}/${m[2]}`) ?? { type: m[1]!, localId: m[2]! };
    return this.byConditional(reference);
  }

  /** A conditional reference on an identifier a resource of the request carries. */
  private byConditional(reference: string): LocalRef | undefined {
    const c = CONDITIONAL.exec(reference);
    if (!c) return undefined;
    const [system, value] = splitToken(safeDecode(c[2]!));
    return this.byIdentifier.get(`${c[1]}|${system}|${value}`);
  }

  /**
   * What a reference names among this request's entries (by fullUrl, by an entry's id, or a
   * conditional reference on an identifier one carries); undefined for what the request does not
   * carry, where `resolve` would still take a `Type/id` as the source's id of something sent before.
   */
  resolveInRequest(reference: string): LocalRef | undefined {
    const hit = this.byFullUrl.get(reference);
    if (hit) return hit.ref;
    const m = RELATIVE.exec(reference);
    if (m) {
      const alias = this.byRelative.get(`${m[1]}/${m[2]}`);
      if (alias) return alias;
      return this.byLocal.has(`${m[1]}/${m[2]}`) ? { type: m[1]!, localId: m[2]! } : undefined;
    }
    return this.byConditional(reference);
  }

  /** A logical reference (an identifier, no reference) to a resource in the request. */
  resolveIdentifier(type: string | undefined, identifier: Identified): LocalRef | undefined {
    if (!identifier.value) return undefined;
    const key = `|${identifier.system ?? ''}|${identifier.value}`;
    // without a type, only an identifier one type carries says which
    return type ? this.byIdentifier.get(`${type}${key}`) : this.byUntypedIdentifier.get(key);
  }

  /** The entry is the item stored under `localId` (pipeline/stored-names.ts fileAs). */
  rename(e: Entry, localId: string): void {
    const ref = this.refs.get(e);
    if (!ref) return;
    const was = `${ref.type}/${ref.localId}`;
    const resource = this.byLocal.get(was);
    // the id it was sent under still names it within the request
    if (!this.byRelative.has(was)) this.byRelative.set(was, ref);
    ref.localId = localId;
    if (resource) this.byLocal.set(`${ref.type}/${localId}`, resource);
  }

  /**
   * The source's id `senderId` names what it stored as `localId` (a conditional create's alias,
   * pipeline/stored-names.ts), for a request that names it but does not carry it.
   */
  alias(type: string, senderId: string, localId: string): void {
    const key = `${type}/${senderId}`;
    if (!this.byRelative.has(key)) this.byRelative.set(key, { type, localId });
  }

  resourceFor(ref: LocalRef): Resource | undefined {
    return this.byLocal.get(`${ref.type}/${ref.localId}`);
  }

  /** A directory entry stored by an earlier request, for references this request did not resolve. */
  addStored(ref: LocalRef, resource: Resource): void {
    const key = `${ref.type}/${ref.localId}`;
    if (!this.byLocal.has(key)) this.byLocal.set(key, resource);
  }
}

/** A reference to a clinical item by a type and an identifier: logical, or conditional on the identifier. */
export interface IdentifierReference {
  /** absent where the reference names no type */
  type: string | undefined;
  system: string;
  value: string;
}

/**
 * The identifier references in a resource that the request does not resolve: a logical reference
 * (`{type, identifier}` or `{identifier}`, no reference) or a conditional one
 * (`Encounter?identifier=s|v`) to a clinical item. They may name an item an earlier request stored.
 * (One walk for both lookups of stored items, as it visits every element of every resource.)
 */
export function unresolvedIdentifierReferences(
  resource: Resource,
  index: RequestIndex,
  /** whether an item of the request is the same person's (another person's does not resolve it) */
  samePerson: (ref: LocalRef) => boolean = () => true,
  /** given: the clinical items named `Type/id` that the request does not carry are added to it */
  byId?: LocalRef[],
): IdentifierReference[] {
  const found: IdentifierReference[] = [];
  // no closure per node: this walks every element of every resource on intake
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) if (n !== null && typeof n === 'object') walk(n);
      return;
    }
    const obj = node as Record<string, unknown>;
    const reference = obj.reference;
    if (typeof reference === 'string') {
      const c = CONDITIONAL.exec(reference);
      if (c) {
        if (isClinicalType(c[1]!) && !index.resolve(reference)) {
          const [system, value] = splitToken(safeDecode(c[2]!));
          found.push({ type: c[1]!, system, value });
        }
      } else if (!reference.startsWith('#') && !index.resolveInRequest(reference)) {
        if (isIdentifier(obj.identifier)) byIdentifier(obj, index, samePerson, found);
        if (byId) {
          const m = RELATIVE.exec(reference);
          if (m && isClinicalType(m[1]!)) byId.push({ type: m[1]!, localId: m[2]! });
        }
      }
    } else if (isIdentifier(obj.identifier)) byIdentifier(obj, index, samePerson, found);
    for (const k in obj) {
      const v = obj[k];
      if (k !== 'contained' && k !== 'meta' && v !== null && typeof v === 'object') walk(v);
    }
  };
  walk(resource);
  return found;
}

/** An identifier reference the request does not resolve (for this person) is one to look up. */
function byIdentifier(
  obj: Record<string, unknown>,
  index: RequestIndex,
  samePerson: (ref: LocalRef) => boolean,
  found: IdentifierReference[],
): void {
  if (obj.type !== undefined && typeof obj.type !== 'string') return;
  const type = obj.type as string | undefined;
  const id = obj.identifier as Identified;
  if (!id.value || (type !== undefined && !isClinicalType(type))) return;
  const inRequest = index.resolveIdentifier(type, id);
  if (!inRequest || !samePerson(inRequest)) found.push({ type, system: id.system ?? '', value: id.value });
}

/** The extension naming the kept directory entry a reference (or a medication code) stands for. */
function directoryLink(sourceId: string, ref: LocalRef) {
  return {
    url: DIRECTORY_ENTRY_EXTENSION,
    valueString: `${ref.type}/${itemId(sourceId, ref.type, ref.localId)}`,
  };
}

function withLink<T extends { extension?: unknown[] }>(element: T, link: object): T {
  return { ...element, extension: [...(element.extension ?? []), link] };
}

function odsCodeOf(resource: Resource | undefined): string | undefined {
  const ids = (resource as { identifier?: { system?: string; value?: string }[] } | undefined)?.identifier;
  return ids?.find((i) => i.system === ODS_SYSTEM)?.value;
}

function displayOf(resource: Resource | undefined): string | undefined {
  if (!resource) return undefined;
  const r = resource as {
    name?: string | { text?: string; given?: string[]; family?: string; prefix?: string[] }[];
    code?: { text?: string; coding?: { display?: string }[] };
  };
  if (typeof r.name === 'string') return r.name;
  const n = r.name?.[0];
  if (n) return n.text ?? [...(n.prefix ?? []), ...(n.given ?? []), n.family].filter(Boolean).join(' ');
  return r.code?.text ?? r.code?.coding?.[0]?.display;
}

export interface RewriteContext {
  sourceId: string;
  index: RequestIndex;
  /** person id for a source-local patient id */
  personFor: (localPatientId: string) => string | undefined;
  /** an item of this person an earlier request stored, by (type, if named) and identifier */
  stored?: (type: string | undefined, system: string, value: string) => LocalRef | undefined;
  /**
   * whether an item of this request is about the same person as the one rewritten: an identifier
   * another person's item carries does not name this one's (absent: no person to compare)
   */
  samePerson?: (ref: LocalRef) => boolean;
}

/**
 * Rewrites, in place, every reference in the resource to Sharedcare's ids (the resource is the
 * request's own parsed copy; not cloning it saves a deep copy per resource on bulk loads). A reference
 * to a directory entry (practitioner, organisation, medication) becomes its display text (a
 * referenced Medication becomes medicationCodeableConcept, so that the drug's code is classified
 * with the item, searched by `code` and read by clients as before), since only person-keyed items
 * are stored; the display-only reference keeps its target's `type`. Where the entry is a kept one (KEPT_DIRECTORY_TYPES) that this request or an earlier
 * one sent, the display text (or the code) carries an extension naming it: `_include` follows it.
 */
export function rewriteReferences<T extends Resource>(resource: T, ctx: RewriteContext): T {
  const copy = resource as T & {
    medicationReference?: { reference?: string; display?: string };
  };
  if (copy.medicationReference?.reference) {
    const ref = ctx.index.resolve(copy.medicationReference.reference);
    const med = ref && ctx.index.resourceFor(ref);
    const code = (med as { code?: { extension?: unknown[] } } | undefined)?.code;
    if (code && ref) {
      (copy as unknown as Record<string, unknown>).medicationCodeableConcept = withLink(
        code,
        directoryLink(ctx.sourceId, ref),
      );
      delete copy.medicationReference;
    }
  }
  // for…in rather than Object.entries: this runs over every element of every resource on intake.
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) if (n !== null && typeof n === 'object') walk(n);
      return;
    }
    const obj = node as Record<string, unknown>;
    if (typeof obj.reference === 'string' && !obj.reference.startsWith('#')) rewriteOne(obj, ctx);
    else if (obj.reference === undefined && isIdentifier(obj.identifier)) logicalToLiteral(obj, ctx);
    for (const k in obj) {
      const v = obj[k];
      if (k !== 'contained' && v !== null && typeof v === 'object') walk(v);
    }
  };
  const top = copy as unknown as Record<string, unknown>;
  for (const k in top) {
    const v = top[k];
    if (k !== 'meta' && k !== 'contained' && v !== null && typeof v === 'object') walk(v);
  }
  return copy;
}

/**
 * An organisation named by its ODS code in the reference itself: the national directory's URL
 * (CareConnect and UK Core profiles point at it) or a conditional reference on the ODS code. Its
 * code is what the privacy policy and the care relationships read.
 */
const ODS_REFERENCE = [
  /^https?:\/\/directory\.spineservices\.nhs\.uk\/(?:STU3|R4)\/Organization\/([A-Za-z0-9]{3,10})$/i,
  /^Organization\?identifier=https:\/\/fhir\.nhs\.uk\/Id\/ods-organization-code(?:\||%7C)([A-Za-z0-9]{3,10})$/i,
];

const isIdentifier = (x: unknown): x is Identified =>
  x !== null && typeof x === 'object' && !Array.isArray(x) && typeof (x as Identified).value === 'string';

/**
 * A reference by identifier alone to a clinical item sent in the same request gets that item's
 * id as well, so that what depends on it is linked (an observation made at a withheld clinic
 * visit the source named by its visit number is withheld with it). The identifier is kept.
 */
function logicalToLiteral(obj: Record<string, unknown>, ctx: RewriteContext): boolean {
  const type = typeof obj.type === 'string' ? obj.type : undefined;
  const id = obj.identifier as Identified;
  const inRequest = ctx.index.resolveIdentifier(type, id);
  const ref =
    (inRequest && (ctx.samePerson?.(inRequest) ?? true) ? inRequest : undefined) ??
    (id.value ? ctx.stored?.(type, id.system ?? '', id.value) : undefined);
  if (!ref || !isClinicalType(ref.type)) return false;
  obj.reference = `${ref.type}/${itemId(ctx.sourceId, ref.type, ref.localId)}`;
  return true;
}

/** A conditional reference on an identifier (`Encounter?identifier=s|v`) to an item stored before. */
function storedConditional(reference: string, ctx: RewriteContext): LocalRef | undefined {
  const c = ctx.stored ? CONDITIONAL.exec(reference) : null;
  if (!c) return undefined;
  const [system, value] = splitToken(safeDecode(c[2]!));
  return ctx.stored!(c[1]!, system, value);
}

function rewriteOne(obj: Record<string, unknown>, ctx: RewriteContext): void {
  const reference = obj.reference as string;
  // (most references are "Type/id" or a urn: neither form starts so)
  const ods =
    reference.startsWith('http') || reference.startsWith('Organization?')
      ? ODS_REFERENCE.map((re) => re.exec(reference)?.[1]).find((code) => code !== undefined)
      : undefined;
  if (ods) {
    const code = ods.toUpperCase();
    delete obj.reference;
    obj.display ??= `Organization ${code}`;
    obj.identifier ??= { system: ODS_SYSTEM, value: code };
    if (typeof obj.type !== 'string') obj.type = 'Organization';
    return;
  }
  // a reference to nothing this request carries that also gives the target's identifier (a urn of
  // the sender's own, an id from another export): named by the identifier where that finds an item
  if (isIdentifier(obj.identifier) && !ctx.index.resolveInRequest(reference) && logicalToLiteral(obj, ctx))
    return;
  const ref = ctx.index.resolve(reference) ?? storedConditional(reference, ctx);
  if (!ref) return;
  if (ref.type === 'Patient') {
    const person = ctx.personFor(ref.localId);
    if (person) obj.reference = `Patient/${person}`;
    return;
  }
  if (isClinicalType(ref.type)) {
    obj.reference = `${ref.type}/${itemId(ctx.sourceId, ref.type, ref.localId)}`;
    return;
  }
  if (DIRECTORY_TYPES.has(ref.type) || !isClinicalType(ref.type)) {
    const display =
      (obj.display as string | undefined) ??
      displayOf(ctx.index.resourceFor(ref)) ??
      `${ref.type} ${ref.localId}`;
    delete obj.reference;
    obj.display = display;
    // what the reference named stays said: a reader (the viewer's banner telling the usual GP from
    // the practice, any FHIR client) cannot otherwise tell a clinician's name from a practice's
    if (typeof obj.type !== 'string' && isR4ResourceType(ref.type)) obj.type = ref.type;
    const target = ctx.index.resourceFor(ref);
    // Keep the organisation's ODS code: the privacy policy may withhold everything naming it.
    const ods = odsCodeOf(target);
    if (ods && !obj.identifier) obj.identifier = { system: ODS_SYSTEM, value: ods };
    if (target && KEPT_DIRECTORY_TYPES.includes(ref.type)) {
      const ext = (obj.extension as unknown[] | undefined) ?? [];
      obj.extension = [...ext, directoryLink(ctx.sourceId, ref)];
    }
  }
}
