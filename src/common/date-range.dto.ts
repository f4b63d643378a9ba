import { IsOptional, Matches } from 'class-validator';
import { DATE_PARAM_PATTERN } from './dates';

/**
 * `from`/`to` query parameters shared by every ranged route (parsed with parseRange in dates.ts).
 * What an omitted bound means is said by each route.
 */
export class DateRangeQueryDto {
  /** Start, inclusive: YYYY-MM-DD (the start of that UTC day) or ISO-8601 with a zone. */
  @IsOptional()
  @Matches(DATE_PARAM_PATTERN, { message: 'from must be YYYY-MM-DD or ISO-8601' })
  from?: string;

  /** End, inclusive: YYYY-MM-DD (the whole UTC day) or ISO-8601 with a zone. */
  @IsOptional()
  @Matches(DATE_PARAM_PATTERN, { message: 'to must be YYYY-MM-DD or ISO-8601' })
  to?: string;
}
