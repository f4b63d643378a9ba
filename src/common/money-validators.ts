import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { buildMessage, IsPositive, ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * A finite JSON number with at most 2 decimals (a minus sign allowed; pair with @IsPositiveNumber where
 * needed). Replaces class-validator's `maxDecimalPlaces`, which throws on numbers that print in
 * exponent form (1e-7) and so turned such input into a 500.
 */
export function IsTwoDecimalNumber(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isTwoDecimalNumber',
      validator: {
        validate: (value: unknown): boolean =>
          typeof value === 'number' && Number.isFinite(value) && /^-?\d+(\.\d{1,2})?$/.test(String(value)),
        defaultMessage: buildMessage(
          (each) => `${each}$property must be a number with at most 2 decimals`,
          options,
        ),
      },
    },
    options,
  );
}

/**
 * Greater than 0 (class-validator's IsPositive), documented as such: `exclusiveMinimum` 0. Used
 * instead of a bare @IsPositive, which the Swagger CLI plugin documents as `minimum: 1` and so
 * tells clients that 0.5 is refused.
 */
export function IsPositiveNumber(options?: ValidationOptions): PropertyDecorator {
  return applyDecorators(IsPositive(options), ApiProperty({ minimum: 0, exclusiveMinimum: true }));
}
