import { AppError, ForbiddenError, UnauthorizedError } from '../common/errors/app-error';

export class InvalidCredentialsError extends UnauthorizedError {
  constructor() {
    super('Invalid user name or password.', 'INVALID_CREDENTIALS');
  }
}

export class AccountInactiveError extends ForbiddenError {
  constructor(status: string) {
    super(`This account is ${status.toLowerCase()}.`, 'ACCOUNT_INACTIVE');
  }
}

export class InvalidTokenError extends UnauthorizedError {
  constructor(message = 'The token is not valid.') {
    super(message, 'INVALID_TOKEN');
  }
}

export class TokenRevokedError extends UnauthorizedError {
  constructor() {
    super('The token has been revoked; log in again.', 'TOKEN_REVOKED');
  }
}

export class TokenReusedError extends UnauthorizedError {
  constructor() {
    super(
      'This refresh token was already used; the session has been ended for your safety. Log in again.',
      'TOKEN_REUSED',
    );
  }
}

export class SessionExpiredError extends UnauthorizedError {
  constructor() {
    super('The session has expired; log in again.', 'TOKEN_EXPIRED');
  }
}

/** The step-up password check of an account is locked after repeated wrong passwords. */
export class PasswordCheckLockedError extends AppError {
  constructor(lockedUntil: Date, now: Date) {
    const seconds = Math.max(1, Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000));
    super(
      429,
      'PASSWORD_CHECK_LOCKED',
      `Too many wrong passwords: password checks for this account are locked until ${lockedUntil.toISOString()}.`,
      [{ field: 'locked_until', message: lockedUntil.toISOString(), value: seconds }],
      { 'Retry-After': String(seconds) },
    );
  }
}
