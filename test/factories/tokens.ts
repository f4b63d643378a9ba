import { createHash } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';

/** Claims as src/auth/token.service.ts writes them. */
export interface Claims {
  sub: number;
  typ: 'access' | 'refresh';
  sid: string;
  jti: string;
  fresh?: boolean;
  fresh_exp?: number;
  iat?: number;
  exp?: number;
}

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Claims;
  signature: string;
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const unb64url = (part: string): unknown => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

function parts(token: string): [string, string, string] {
  const p = token.split('.');
  if (p.length !== 3) throw new Error(`not a compact JWT: ${token}`);
  return [p[0], p[1], p[2]];
}

/** Reads a JWT without verifying it. */
export function decodeJwt(token: string): DecodedJwt {
  const [h, p, s] = parts(token);
  return { header: unb64url(h) as Record<string, unknown>, payload: unb64url(p) as Claims, signature: s };
}

/** The same claims under `{"alg":"none"}` and an empty signature, built by hand. */
export function algNoneToken(token: string): string {
  const { payload } = decodeJwt(token);
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
}

/** Changes one character in the middle of the signature (the last one may only carry padding bits). */
export function tamperSignature(token: string): string {
  const [h, p, s] = parts(token);
  const i = Math.floor(s.length / 2);
  const c = s[i] === 'A' ? 'B' : 'A';
  return `${h}.${p}.${s.slice(0, i)}${c}${s.slice(i + 1)}`;
}

/** Keeps header and signature, replaces the payload (e.g. another `sub`). */
export function tamperPayload(token: string, patch: Partial<Claims>): string {
  const [h, p, s] = parts(token);
  const payload = { ...(unb64url(p) as Claims), ...patch };
  return `${h}.${b64url(payload)}.${s}`;
}

/** Signs arbitrary claims (iat/exp included as given) with a secret, HS256 unless told. */
export function signClaims(
  secret: string,
  claims: Claims,
  algorithm: 'HS256' | 'HS384' | 'HS512' = 'HS256',
): string {
  return new JwtService({ secret }).sign({ ...claims }, { algorithm });
}

/** How the server stores a refresh token (sha256 hex), to prove it never leaves the server. */
export function storedTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
