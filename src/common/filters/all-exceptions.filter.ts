import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { redactUrl } from '../http/redact-url';
import { HttpAdapterHost } from '@nestjs/core';
import { AppError, type ErrorDetail, ServiceUnavailableError } from '../errors/app-error';
import { isDatabaseUnavailable, isRetryableLockError, isUniqueViolation } from '../errors/db-errors';

export interface ErrorBody {
  error: string;
  code: string;
  statusCode: number;
  details?: ErrorDetail[];
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_ENTITY',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

const MESSAGE_BY_STATUS: Record<number, string> = {
  400: 'The request is not valid.',
  401: 'Authentication is required.',
  403: 'You are not allowed to do this.',
  404: 'Not found.',
  405: 'Method not allowed.',
  413: 'The request body is too large.',
  415: 'Unsupported content type; send application/json.',
  429: 'Too many requests.',
  503: 'The service is temporarily unavailable.',
};

interface LoggableRequest {
  id?: string;
  method?: string;
  url?: string;
}

/**
 * Maps any thrown value to the contract's error body. Domain errors carry their own status and code;
 * framework HttpExceptions keep their status with a generic message; unique-key violations become 409;
 * anything else is a 500 whose detail goes only to the log, with the request id.
 */
export function toErrorBody(err: unknown): { body: ErrorBody; headers?: Record<string, string> } {
  if (err instanceof AppError) {
    const body: ErrorBody = { error: err.message, code: err.code, statusCode: err.statusCode };
    if (err.details && err.details.length > 0) body.details = err.details;
    return { body, headers: err.headers };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const message =
      status === 404
        ? 'The requested resource was not found.'
        : (MESSAGE_BY_STATUS[status] ?? 'The request failed.');
    return { body: { error: message, code: CODE_BY_STATUS[status] ?? 'ERROR', statusCode: status } };
  }
  if (isDatabaseUnavailable(err)) {
    // the database is down or unreachable: a moment, not a fault of the request (never 401 or 500)
    return toErrorBody(new ServiceUnavailableError());
  }
  if (isRetryableLockError(err)) {
    // the transaction runner already retried: tell the client to come back shortly
    return {
      body: { error: 'The service is busy; please retry.', code: 'SERVICE_BUSY', statusCode: 503 },
      headers: { 'Retry-After': '1' },
    };
  }
  if (isUniqueViolation(err)) {
    return { body: { error: 'This already exists.', code: 'CONFLICT', statusCode: 409 } };
  }
  return {
    body: {
      error: 'Something went wrong on our side. Please try again later.',
      code: 'INTERNAL_ERROR',
      statusCode: 500,
    },
  };
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<LoggableRequest>();
    const { body, headers } = toErrorBody(exception);
    if (body.statusCode >= 500 && body.code !== 'SERVICE_UNAVAILABLE') {
      const detail = exception instanceof Error ? (exception.stack ?? exception.message) : String(exception);
      this.logger.error(
        `request ${req?.id ?? '-'} ${req?.method ?? ''} ${redactUrl(req?.url)} failed: ${detail}`,
      );
    }
    const adapter = this.adapterHost.httpAdapter;
    const res: unknown = ctx.getResponse();
    for (const [k, v] of Object.entries(headers ?? {})) adapter.setHeader(res, k, v);
    adapter.reply(res, body, body.statusCode);
  }
}
