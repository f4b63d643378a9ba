import { Column, type ColumnOptions } from 'typeorm';
import { bigintTransformer, numberTransformer } from './transformers';

/**
 * Column helpers shared by every entity so both dialects get the same types.
 * Timestamps are DATETIME(3) holding UTC (the MySQL connection runs with timezone 'Z'). They have no
 * database default: the application sets them from the injectable Clock, so tests can move time and
 * both dialects store the same millisecond precision.
 */
export const DateTimeColumn = (options: ColumnOptions = {}): PropertyDecorator =>
  Column({ type: 'datetime', precision: 3, ...options });

export const CreatedAtColumn = (name = 'created_at'): PropertyDecorator => DateTimeColumn({ name });

export const UpdatedAtColumn = (name = 'updated_at'): PropertyDecorator => DateTimeColumn({ name });

/** Money in integer minor units. */
export const MinorUnitsColumn = (options: ColumnOptions = {}): PropertyDecorator =>
  Column({ type: 'bigint', transformer: bigintTransformer, ...options });

/** A derived float (rates, scores). */
export const DoubleColumn = (options: ColumnOptions = {}): PropertyDecorator =>
  Column({ type: 'double', transformer: numberTransformer, ...options });
