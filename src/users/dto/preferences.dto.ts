import { ApiProperty, PartialType } from '@nestjs/swagger';
import { IsIn, IsInt, Max, Min } from 'class-validator';
import { BUCKETS, type Bucket } from '../user-preferences.entity';

export class PreferencesDto {
  /** Default analytics range in hours (1–720). */
  @IsInt()
  @Min(1)
  @Max(720)
  default_range_hours!: number;

  /** Default history bucket. */
  @ApiProperty({ enum: BUCKETS })
  @IsIn(BUCKETS)
  default_bucket!: Bucket;
}

/** Either field may be omitted. */
export class UpdatePreferencesDto extends PartialType(PreferencesDto) {}

export class PreferencesUpdatedDto extends PreferencesDto {
  message!: string;
}
