import type { Role, UserEntity, UserStatus } from '../users/user.entity';
import type { WalletEntity } from '../wallet/wallet.entity';

export type TokenType = 'access' | 'refresh';

/** Claims we put in every token (besides iat/exp). */
export interface TokenClaims {
  sub: number;
  typ: TokenType;
  sid: string;
  jti: string;
  /** Access tokens only: whether the token came from a password check. */
  fresh?: boolean;
  /** Access tokens only: until when (epoch seconds) a fresh token counts as fresh. */
  fresh_exp?: number;
  iat?: number;
  exp?: number;
}

/** The authenticated caller, loaded from the database on every request. */
export interface Principal {
  id: number;
  userName: string;
  role: Role;
  status: UserStatus;
  sessionId: string;
  tokenType: TokenType;
  jti: string;
  /** Fresh right now (flag set and fresh window not over). */
  fresh: boolean;
  /** Established right now: the caller's rate samples count toward the reference (users/establishment.ts). */
  established: boolean;
  /** The raw bearer token (needed to check a refresh token against its stored hash). */
  token: string;
  /** The account as read with the session for this request (routes answering it read nothing more). */
  user: UserEntity;
  /**
   * The wallet, read in the same query, on routes that declare `@Auth({ wallet: true })` (null: no
   * wallet row yet, all balances 0); undefined elsewhere.
   */
  wallet?: WalletEntity | null;
}
