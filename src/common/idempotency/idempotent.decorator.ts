import { applyDecorators, Headers } from '@nestjs/common';
import { ApiHeader, ApiUnprocessableEntityResponse } from '@nestjs/swagger';

/** Documents the optional Idempotency-Key header of a money-moving POST. */
export const Idempotent = (): MethodDecorator =>
  applyDecorators(
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'Optional, 1-255 visible ASCII characters. A replay with the same key and body returns the first ' +
        'response without acting again (kept 24 h); the same key with another body is 422 IDEMPOTENCY_KEY_REUSED.',
    }),
    ApiUnprocessableEntityResponse({
      description: 'Business rule refused (see code), or IDEMPOTENCY_KEY_REUSED',
    }),
  );

/** The Idempotency-Key header value, if any. */
export const IdempotencyKey = (): ParameterDecorator => Headers('idempotency-key');
