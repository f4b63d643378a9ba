/**
 * Domain errors: services throw these (never HttpException); the global filter turns them into the
 * contract's error body `{error, code, statusCode, details?}`.
 */
export interface ErrorDetail {
  field: string;
  message: string;
  /** A number behind the message, where one helps (e.g. the market baseline of RATE_OUTLIER). */
  value?: number | null;
}

export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** At most this many details are listed (a body with thousands of unknown keys gets a short answer). */
export const MAX_VALIDATION_DETAILS = 20;

export class ValidationFailedError extends AppError {
  constructor(details: ErrorDetail[], message = 'The request is not valid.') {
    super(400, 'VALIDATION_FAILED', message, details.slice(0, MAX_VALIDATION_DETAILS));
  }
}

export class BadRequestError extends AppError {
  constructor(message: string, code = 'BAD_REQUEST', details?: ErrorDetail[]) {
    super(400, code, message, details);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Authentication is required.', code = 'UNAUTHORIZED') {
    super(401, code, message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'You are not allowed to do this.', code = 'FORBIDDEN') {
    super(403, code, message);
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'Not found.', code = 'NOT_FOUND') {
    super(404, code, message);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, code = 'CONFLICT', details?: ErrorDetail[]) {
    super(409, code, message, details);
  }
}

export class BusinessRuleError extends AppError {
  constructor(code: string, message: string, details?: ErrorDetail[]) {
    super(422, code, message, details);
  }
}

export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number) {
    const s = Math.max(1, Math.ceil(retryAfterSeconds));
    super(
      429,
      'RATE_LIMITED',
      `Too many requests. Try again in ${s} second${s === 1 ? '' : 's'}.`,
      undefined,
      {
        'Retry-After': String(s),
      },
    );
  }
}

/** An admin acting on their own account where another admin must act (status, role, money). */
export class SelfModificationError extends ForbiddenError {
  constructor(what: string, hint = '') {
    super(`Admins cannot change their own ${what}.${hint ? ` ${hint}` : ''}`, 'SELF_MODIFICATION_FORBIDDEN');
  }
}

/** The database (or another service every request needs) cannot be reached now: retry shortly. */
export class ServiceUnavailableError extends AppError {
  constructor(retryAfterSeconds = 5) {
    super(
      503,
      'SERVICE_UNAVAILABLE',
      'The service is temporarily unavailable; please retry shortly.',
      undefined,
      { 'Retry-After': String(retryAfterSeconds) },
    );
  }
}
