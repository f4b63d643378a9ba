import { createSecretKey } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AuthService } from './auth.service';
import type { Principal, TokenClaims } from './principal';
import { JWT_ALGORITHM } from './token.service';

const extractBearer = ExtractJwt.fromAuthHeaderAsBearerToken();
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
  }

  async validate(req: BearerRequest, claims: TokenClaims): Promise<Principal> {
    return this.auth.resolvePrincipal(claims, extractBearer(req) ?? '');
  }
}
