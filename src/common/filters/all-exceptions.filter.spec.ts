import { BadRequestException, NotFoundException } from '@nestjs/common';
import { RateLimitedError, ValidationFailedError } from '../errors/app-error';
import { toErrorBody } from './all-exceptions.filter';

describe('toErrorBody', () => {
  it('keeps a domain error as it is, with details and headers', () => {
    const sut = toErrorBody(new ValidationFailedError([{ field: 'user_name', message: 'too short' }]));
    expect(sut.body).toEqual({
      error: 'The request is not valid.',
      code: 'VALIDATION_FAILED',
      statusCode: 400,
      details: [{ field: 'user_name', message: 'too short' }],
    });
    expect(toErrorBody(new RateLimitedError(2.2)).headers).toEqual({ 'Retry-After': '3' });
  });

  it('gives framework exceptions a generic message and a code', () => {
    expect(toErrorBody(new NotFoundException('Cannot GET /x')).body).toEqual({
      error: 'The requested resource was not found.',
      code: 'NOT_FOUND',
      statusCode: 404,
    });
    expect(toErrorBody(new BadRequestException('internal detail')).body.error).not.toContain(
      'internal detail',
    );
  });

  it('hides anything unexpected behind a generic 500', () => {
    const sut = toErrorBody(new TypeError("Cannot read properties of undefined (reading 'id')"));
    expect(sut.body).toEqual({
      error: 'Something went wrong on our side. Please try again later.',
      code: 'INTERNAL_ERROR',
      statusCode: 500,
    });
  });

  it('maps unique-key violations of both dialects to 409', () => {
    expect(toErrorBody({ code: 'ER_DUP_ENTRY', errno: 1062 }).body.statusCode).toBe(409);
    expect(toErrorBody({ driverError: { code: 'SQLITE_CONSTRAINT_UNIQUE' } }).body.statusCode).toBe(409);
  });
});
