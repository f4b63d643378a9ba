import { buildMessage, ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * A finite JSON number with at most 2 decimals (a minus sign allowed; pair with @IsPositive where
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
