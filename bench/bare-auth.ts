import { createHmac, timingSafeEqual } from 'node:crypto';

/** The token check of the bare baselines: what the API's JWT strategy checks, on node:crypto. */
export interface Claims {
  sub?: unknown;
  typ?: unknown;
  sid?: unknown;
  exp?: unknown;
}

/** HS256 only, as the API's strategy: the claims of a valid unexpired token, else null. */
export function verify(token: string, key: Buffer): Claims | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [h, p, sig] = parts;
  const expected = createHmac('sha256', key).update(`${h}.${p}`).digest();
  const got = Buffer.from(sig, 'base64url');
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) return null;
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: unknown };
    if (header.alg !== 'HS256') return null;
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Claims;
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now()) return null;
    return claims;
  } catch {
    return null;
  }
}

export const iso = (d: Date | string): string =>
  (d instanceof Date ? d : new Date(`${d.replace(' ', 'T')}Z`)).toISOString();
