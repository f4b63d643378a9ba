import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ValidationFailedError } from '../errors/app-error';

/**
 * A positive integer route parameter (ids), 400 otherwise. Read from the raw request, so the global
 * ValidationPipe cannot turn "01", " 1", "1e3" or "0x10" into a number first.
 */
export const IdParam = createParamDecorator((name: string | undefined, ctx: ExecutionContext): number => {
  const field = name ?? 'id';
  const value = ctx.switchToHttp().getRequest<{ params?: Record<string, string> }>().params?.[field] ?? '';
  if (!/^[1-9]\d{0,9}$/.test(value) || Number(value) > 2_147_483_647) {
    throw new ValidationFailedError([{ field, message: 'must be a positive integer id' }]);
  }
  return Number(value);
});
