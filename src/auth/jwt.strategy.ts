import { createSecretKey } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AuthService } from './auth.service';
import type { Principal, TokenClaims } from './principal';
import { JWT_ALGORITHM } from './token.service';
import { type JwtVerifier, VerifiedTokenCache } from './verified-token-cache';

/** passport-jwt's verifier (jsonwebtoken), before ours goes in front of it. */
const strategyClass = Strategy as unknown as { JwtVerifier: JwtVerifier };
const JSONWEBTOKEN_VERIFIER = strategyClass.JwtVerifier;

/** Verified access tokens kept in memory (see VerifiedTokenCache): a few MB at most. */
const VERIFIED_TOKENS_KEPT = 10_000;

const extractBearer = ExtractJwt.fromAuthHeaderAsBearerToken();

/** Requests whose route reads the caller's wallet with the session (`@Auth({ wallet: true })`; set by JwtAuthGuard). */
export const WANTS_WALLET = new WeakSet<object>();
type BearerRequest = Parameters<typeof extractBearer>[0];

/** Verifies signature (HS256 only) and expiry, then loads session and user from the database. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly auth: AuthService,
  ) {
    const secretKey = createSecretKey(Buffer.from(config.auth.jwtSecret, 'utf8'));
    super({
      jwtFromRequest: extractBearer,
      // A ready KeyObject: jsonwebtoken otherwise re-derives one from the string on every request,
      // first trying (and failing) to read it as a public key.
      secretOrKeyProvider: (_req: unknown, _raw: unknown, done: (err: null, key: Buffer) => void) =>
        done(null, secretKey as unknown as Buffer),
      algorithms: [JWT_ALGORITHM],
      ignoreExpiration: false,
      passReqToCallback: true,
    });
    // passport-jwt calls the verifier through this static hook; an entry only answers for the key
    // object it verified with, so apps with other secrets in the same process (tests) never mix
    strategyClass.JwtVerifier = new VerifiedTokenCache(VERIFIED_TOKENS_KEPT).wrap(JSONWEBTOKEN_VERIFIER);
  }

  async validate(req: BearerRequest, claims: TokenClaims): Promise<Principal> {
    return this.auth.resolvePrincipal(claims, extractBearer(req) ?? '', WANTS_WALLET.has(req as object));
  }
}
