import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { TokenClaims } from './principal';

export const JWT_ALGORITHM = 'HS256' as const;

export interface SignedToken {
  token: string;
  jti: string;
  expiresAt: Date;
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Signs our tokens (HS256 only). Requests are verified by the passport strategy with the same pin;
 * `verify` serves the one check made before the Nest pipeline (the import route's body limit).
 */
@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get accessTtlSeconds(): number {
    return this.config.auth.accessTtlSeconds;
  }

  async signAccess(userId: number, sessionId: string, fresh: boolean, now: Date): Promise<SignedToken> {
    const nowSec = Math.floor(now.getTime() / 1000);
    const claims: TokenClaims = {
      sub: userId,
      typ: 'access',
      sid: sessionId,
      jti: randomUUID(),
      fresh,
      ...(fresh ? { fresh_exp: nowSec + this.config.auth.freshTtlSeconds } : {}),
    };
    return this.sign(claims, nowSec, this.config.auth.accessTtlSeconds);
  }

  async signRefresh(userId: number, sessionId: string, now: Date): Promise<SignedToken> {
    const nowSec = Math.floor(now.getTime() / 1000);
    const claims: TokenClaims = { sub: userId, typ: 'refresh', sid: sessionId, jti: randomUUID() };
    return this.sign(claims, nowSec, this.config.auth.refreshTtlSeconds);
  }

  /** The claims of a token with a valid signature and expiry, else null. */
  async verify(token: string): Promise<TokenClaims | null> {
    try {
      return await this.jwt.verifyAsync<TokenClaims>(token, { algorithms: [JWT_ALGORITHM] });
    } catch {
      return null;
    }
  }

  private async sign(claims: TokenClaims, nowSec: number, ttl: number): Promise<SignedToken> {
    const exp = nowSec + ttl;
    const token = await this.jwt.signAsync({ ...claims, iat: nowSec, exp }, { algorithm: JWT_ALGORITHM });
    return { token, jti: claims.jti, expiresAt: new Date(exp * 1000) };
  }
}
