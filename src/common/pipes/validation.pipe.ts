import { type ArgumentMetadata, ValidationPipe, type ValidationError } from '@nestjs/common';
import { type ErrorDetail, ValidationFailedError } from '../errors/app-error';

function flatten(errors: ValidationError[], prefix = ''): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    for (const [rule, message] of Object.entries(e.constraints ?? {})) {
      out.push({
        field,
        message: rule === 'whitelistValidation' ? `${field} is not an accepted field` : message,
      });
    }
    if (e.children && e.children.length > 0) out.push(...flatten(e.children, field));
  }
  return out;
}

/** The sentence a client shows: which field is wrong, not only that something is. */
function summaryOf(details: ErrorDetail[]): string {
  if (details.length === 0) return 'The request is not valid.';
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : '';
  return `The request is not valid: ${details[0].message}${more}.`;
}

/** The error for a failed validation: every problem counted in the message, the first 20 listed. */
function validationError(details: ErrorDetail[]): ValidationFailedError {
  return new ValidationFailedError(details, summaryOf(details));
}

/**
 * An empty query value (`?from=&event_type=`) is the same as leaving the parameter out: forms send
 * their empty fields. A required parameter left empty is still refused as missing.
 */
export function withoutEmptyValues(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== ''));
}

class AppValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const query = metadata.type === 'query' && value !== null && typeof value === 'object';
    return super.transform(query ? withoutEmptyValues(value as Record<string, unknown>) : value, metadata);
  }
}

/** Whitelist, refuse unknown fields (so nobody can send `role` or `status`), transform to DTO classes. */
export function createValidationPipe(): ValidationPipe {
  return new AppValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => validationError(flatten(errors)),
  });
}
