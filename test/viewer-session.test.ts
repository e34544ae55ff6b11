/**
 * GET /viewer/api/session: the signed-in user's context as the viewer shows it. Who is signed in,
 * as what role, at which organisation (the header), whether that organisation views the record,
 * the patient the launch named, and which sections the role may see, straight from
 * src/access/roles.ts, so that the viewer says "not available to your role" rather than "none".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SECTIONS, mintUserToken, SECTIONS_BY_KIND } from '../src/access/index.ts';
import type { ViewerSession } from '../src/api/viewer-routes.ts';
import { DB_KINDS, startRegion, type TestRegion } from './kit.ts';

describe.each(DB_KINDS)('the viewer’s session context on %s', (kind) => {
  let r: TestRegion;
  beforeAll(async () => {
    r = await startRegion(kind);
  });
  afterAll(async () => r.drop());

  const session = async (token?: string) => {
    const res = await r.app.server.inject({
      method: 'GET',
      url: '/viewer/api/session',
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: res.statusCode, body: res.json<ViewerSession>(), headers: res.headers };
  };
  const token = (user: string, org: string, role: string, extra: { name?: string; patient?: string } = {}) =>
    mintUserToken(r.config.devIssuerSecret!, { user, org, role, ...extra });

  it('needs a signed-in user', async () => {
    expect((await session()).status).toBe(401);
    expect((await session(await r.sourceToken('gp-riverside'))).status).toBe(403);
  });

  it('names the user, the role and the organisation, and the patient the launch named', async () => {
    const res = await session(
      await token('dr.gp', 'Y90001', 'R8000', { name: 'Dr Ada Lovelace', patient: '9990000018' }),
    );
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      user: { id: 'dr.gp', name: 'Dr Ada Lovelace' },
      role: { code: 'R8000', name: 'Clinical Practitioner', access: 'clinical' },
      organisation: { ods: 'Y90001', name: 'Riverside Surgery', takesPart: true, views: true },
      sections: [...ALL_SECTIONS],
      patient: { nhsNumber: '9990000018' },
    });
  });

  it.each([
    ['R8009', 'Receptionist', 'clerical'],
    ['R0243', 'Social Care Worker', 'social-care'],
    ['social-worker', 'Social Worker', 'social-care'],
  ] as const)('tells the viewer which sections role %s may see', async (role, name, access) => {
    const { body } = await session(await token('u1', 'RX1', role));
    expect(body.role).toEqual({ code: role, name, access });
    expect(body.sections).toEqual([...SECTIONS_BY_KIND[access]]);
    expect(body.sections).not.toContain('problems');
    expect(body.user).toEqual({ id: 'u1', name: null });
    expect(body.patient).toBeNull();
  });

  it('says when the organisation contributes but does not view, or does not take part', async () => {
    expect((await session(await token('lab.user', 'LAB01', 'R8000'))).body.organisation).toEqual({
      ods: 'LAB01',
      name: 'Private Lab',
      takesPart: true,
      views: false,
    });
    expect((await session(await token('x', 'ZZZ99', 'R8000'))).body.organisation).toEqual({
      ods: 'ZZZ99',
      name: null,
      takesPart: false,
      views: false,
    });
  });

  it('gives an unknown role no sections, shown by its code', async () => {
    const { body } = await session(await token('u2', 'Y90001', 'R9999'));
    expect(body.role).toEqual({ code: 'R9999', name: 'R9999', access: null });
    expect(body.sections).toEqual([]);
  });
});
