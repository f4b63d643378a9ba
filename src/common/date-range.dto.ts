import { ApiProperty } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsTimestamp, TIMESTAMP, TIMESTAMP_FORMS } from './dates';

/**
 * `from`/`to` query parameters shared by every ranged route (parsed with parseRange in dates.ts).
 * What an omitted bound means is said by each route.
 */
export class DateRangeQueryDto {
  @ApiProperty({
    required: false,
    description: `Start, inclusive: ${TIMESTAMP_FORMS}. A bare date is the start of that UTC day.`,
    example: '2026-12-02T21:46',
    pattern: TIMESTAMP.source,
  })
  @IsOptional()
  @IsTimestamp()
  from?: string;

  @ApiProperty({
    required: false,
    description: `End, inclusive: ${TIMESTAMP_FORMS}. A bare date includes that whole UTC day; a date-time is that instant.`,
    example: '2026-12-05T21:46',
    pattern: TIMESTAMP.source,
  })
  @IsOptional()
  @IsTimestamp()
  to?: string;
}
