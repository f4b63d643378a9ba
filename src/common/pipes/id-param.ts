import { Param, type PipeTransform } from '@nestjs/common';
import { ValidationFailedError } from '../errors/app-error';

class PositiveIntPipe implements PipeTransform<string, number> {
  constructor(private readonly field: string) {}

  transform(value: string): number {
    if (!/^[1-9]\d{0,9}$/.test(value) || Number(value) > 2_147_483_647) {
      throw new ValidationFailedError([{ field: this.field, message: 'must be a positive integer id' }]);
    }
    return Number(value);
  }
}

/** A positive integer route parameter (ids), 400 otherwise. */
export const IdParam = (name = 'id'): ParameterDecorator => Param(name, new PositiveIntPipe(name));
