/** Reading ids and building paging links for the FHIR routes. */
import type { FastifyRequest } from 'fastify';
import { SharedcareError } from '../../errors/index.ts';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A Patient id given as "{id}" or "Patient/{id}"; 400 when it cannot be one. */
export function personIdParam(value: string | undefined, name: string): string {
  const id = (value ?? '').replace(/^Patient\//, '');
  if (!UUID.test(id))
    throw new SharedcareError('invalid-request', `${name} must be a Patient id`, [
      { message: `${name} must be a Patient id (as returned by Patient search)`, expression: name },
    ]);
  return id;
}

/**
 * The URL of a page: this request's path on the public base, with only the parameters that were
 * applied, and `_offset` set for the page.
 */
export function pageLink(
  publicUrl: string,
  req: FastifyRequest,
  applied: [string, string][],
): (offset: number) => string {
  const path = req.url.split('?', 1)[0]!;
  return (offset) => {
    const q = new URLSearchParams(applied.filter(([k]) => k !== '_offset'));
    if (offset > 0) q.append('_offset', String(offset));
    const text = q.toString();
    return `${publicUrl}${path}${text ? `?${text}` : ''}`;
  };
}
