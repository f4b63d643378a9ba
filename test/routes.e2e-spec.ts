import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { AUTH_POLICY, type AuthPolicy, IS_PUBLIC } from '../src/auth/auth.decorators';
import { createAdmin, createUser, login, type TestUser } from './factories/users';
import { type Policy, ROUTES, servedRoutes } from './route-table';
import { startTestApp, type TestApp } from './test-app';

jest.setTimeout(60_000);

type Route = readonly [method: string, path: string, policy: Policy];

/** The table of every route and its auth requirement lives in route-table.ts (the auth matrix uses it too). */
const EXPECTED: readonly Route[] = ROUTES;

const byRoute = (a: Route, b: Route): number => `${a[1]} ${a[0]}`.localeCompare(`${b[1]} ${b[0]}`);
const sorted = (routes: readonly Route[]): Route[] => [...routes].sort(byRoute);
const isFresh = (p: Policy): boolean => p.endsWith('+fresh');
const isAdmin = (p: Policy): boolean => p.startsWith('admin');

function joinPath(...parts: (string | undefined)[]): string {
  const segs = parts
    .filter((p): p is string => typeof p === 'string')
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter((p) => p !== '');
  return `/${segs.join('/')}`;
}

function policyOf(p: AuthPolicy | undefined, isPublic: boolean): Policy {
  if (isPublic) return 'public';
  if (p?.token === 'refresh') return 'refresh';
  const base = p?.roles?.includes('ADMIN') ? 'admin' : 'user';
  return `${base}${p?.fresh ? '+fresh' : ''}` as Policy;
}

/** The route table as the running app declares it: controllers' route and auth metadata. */
function actualRoutes(t: TestApp): Route[] {
  const discovery = new DiscoveryService(t.app.get(ModulesContainer));
  const scanner = new MetadataScanner();
  const reflector = new Reflector();
  const out: Route[] = [];
  for (const wrapper of discovery.getControllers()) {
    const cls = wrapper.metatype as (new (...args: never[]) => unknown) | null;
    if (!cls) continue;
    const ctrlPaths = [Reflect.getMetadata(PATH_METADATA, cls) as string | string[] | undefined].flat();
    for (const name of scanner.getAllMethodNames(cls.prototype as object)) {
      const handler = (cls.prototype as Record<string, unknown>)[name] as (...args: unknown[]) => unknown;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (method === undefined) continue;
      const targets = [handler, cls];
      const isPublic = reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, targets) === true;
      const policy = policyOf(
        reflector.getAllAndOverride<AuthPolicy | undefined>(AUTH_POLICY, targets),
        isPublic,
      );
      const methodPaths = [
        Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined,
      ].flat();
      for (const cp of ctrlPaths) {
        for (const mp of methodPaths) out.push([RequestMethod[method], joinPath(cp, mp), policy]);
      }
    }
  }
  return out;
}

/** A concrete URL for a route: every path parameter becomes `id`. */
const concrete = (path: string, id: number | string = 1): string => path.replace(/:\w+/g, String(id));

describe('routes: every route and its auth requirement', () => {
  let t: TestApp;
  let user: TestUser;
  let admin: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    user = await createUser(t, 'rt_user');
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t.close();
  });

  /** A new session of `u`, so a route that ends its session does not disturb the other checks. */
  const session = (u: TestUser) => login(t, u.userName, u.password);

  /** A non-fresh access token of `u`: access tokens issued by POST /refresh are never fresh. */
  async function nonFreshToken(u: TestUser): Promise<string> {
    const s = await session(u);
    const res = await t.request('POST', '/refresh', { token: s.refresh });
    expect(res.statusCode).toBe(200);
    return res.json<{ access_token: string }>().access_token;
  }

  it('the declared route table is exactly the expected one', () => {
    const actual = sorted(actualRoutes(t));
    expect(actual).toEqual(sorted(EXPECTED));
    // No route declared twice (two handlers for one method and path would shadow each other).
    const keys = actual.map(([m, p]) => `${m} ${p}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('Fastify serves exactly the routes of the table (besides /docs*, HEAD and CORS preflight)', () => {
    const fastify = t.app.getHttpAdapter().getInstance();
    for (const [method, url] of EXPECTED) {
      expect({
        route: `${method} ${url}`,
        served: fastify.hasRoute({ method, url }),
      }).toEqual({
        route: `${method} ${url}`,
        served: true,
      });
    }
    const served = servedRoutes(fastify.printRoutes({ commonPrefix: false }));
    expect(served).toEqual(EXPECTED.map(([m, p]) => `${m} ${p}`).sort());
  });

  it('public routes answer without a token (never 401/403)', async () => {
    // GET /metrics is public to the JWT guard but takes its own credential, METRICS_TOKEN
    const ownCredential = (path: string) => path === '/metrics';
    for (const [method, path] of EXPECTED.filter(([, p, pol]) => pol === 'public' && !ownCredential(p))) {
      const res = await t.request(method, concrete(path));
      expect({ route: `${method} ${path}`, denied: [401, 403].includes(res.statusCode) }).toEqual({
        route: `${method} ${path}`,
        denied: false,
      });
    }
  });

  it('every non-public route refuses an anonymous request with 401', async () => {
    for (const [method, path] of EXPECTED.filter(([, , p]) => p !== 'public')) {
      const res = await t.request(method, concrete(path));
      expect({ route: `${method} ${path}`, status: res.statusCode, code: res.json().code }).toEqual({
        route: `${method} ${path}`,
        status: 401,
        code: 'UNAUTHORIZED',
      });
    }
  });

  it('every non-public route refuses a forged or malformed token with 401', async () => {
    const forged = `${user.access.slice(0, -4)}AAAA`;
    for (const [method, path] of EXPECTED.filter(([, , p]) => p !== 'public')) {
      for (const token of [forged, 'not-a-jwt']) {
        const res = await t.request(method, concrete(path), { token });
        expect({ route: `${method} ${path}`, status: res.statusCode }).toEqual({
          route: `${method} ${path}`,
          status: 401,
        });
      }
    }
  });

  it('access-token routes refuse a refresh token, and refresh-token routes an access token (401)', async () => {
    for (const [method, path, policy] of EXPECTED.filter(([, , p]) => p !== 'public')) {
      const s = await session(policy.startsWith('admin') ? admin : user);
      const wrong = policy === 'refresh' ? s.access : s.refresh;
      const res = await t.request(method, concrete(path), { token: wrong });
      expect({ route: `${method} ${path}`, status: res.statusCode, code: res.json().code }).toEqual({
        route: `${method} ${path}`,
        status: 401,
        code: 'WRONG_TOKEN_TYPE',
      });
    }
  });

  it('every admin route refuses a plain user with 403', async () => {
    for (const [method, path] of EXPECTED.filter(([, , p]) => isAdmin(p))) {
      const res = await t.request(method, concrete(path), { token: user.access });
      expect({ route: `${method} ${path}`, status: res.statusCode, code: res.json().code }).toEqual({
        route: `${method} ${path}`,
        status: 403,
        code: 'FORBIDDEN_ROLE',
      });
    }
  });

  it('every fresh route refuses a non-fresh token of the right role with 403 FRESH_TOKEN_REQUIRED', async () => {
    const fresh = EXPECTED.filter(([, , p]) => isFresh(p));
    expect(fresh.length).toBeGreaterThan(0);
    const stale = { user: await nonFreshToken(user), admin: await nonFreshToken(admin) };
    for (const [method, path, policy] of fresh) {
      const res = await t.request(method, concrete(path), {
        token: isAdmin(policy) ? stale.admin : stale.user,
      });
      expect({ route: `${method} ${path}`, status: res.statusCode, code: res.json().code }).toEqual({
        route: `${method} ${path}`,
        status: 403,
        code: 'FRESH_TOKEN_REQUIRED',
      });
    }
  });

  it('the right token passes the auth checks on every non-public route (no 401/403)', async () => {
    // A non-existent id keeps the admin routes from changing anything (404 or 400 instead).
    for (const [method, path, policy] of EXPECTED.filter(([, , p]) => p !== 'public')) {
      const s = await session(isAdmin(policy) ? admin : user);
      const token = policy === 'refresh' ? s.refresh : s.access;
      const res = await t.request(method, concrete(path, 999_999), { token });
      expect({
        route: `${method} ${path}`,
        denied: [401, 403].includes(res.statusCode),
        status: res.statusCode,
      }).toEqual({
        route: `${method} ${path}`,
        denied: false,
        status: expect.any(Number),
      });
    }
  });
});
