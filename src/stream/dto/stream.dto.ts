import { ApiProperty } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';

export class StreamTicketDto {
  /** Pass it once as `GET /stream?ticket=`; it is valid for STREAM_TICKET_TTL_SECONDS. */
  ticket!: string;
  @ApiProperty({ format: 'date-time' })
  expires_at!: string;
}

export class StreamQueryDto {
  /** A ticket from POST /stream/ticket (used up by this request). */
  @IsString()
  @Length(43, 43, { message: 'must be a ticket from POST /stream/ticket' })
  @Matches(/^[A-Za-z0-9_-]{43}$/, { message: 'must be a ticket from POST /stream/ticket' })
  ticket!: string;

  /**
   * The id of the last event you received, to get the notifications you missed: for a new
   * EventSource after a reconnect (browsers send the Last-Event-ID header only on their own
   * reconnects, which reuse the spent ticket). The header wins when both are sent.
   */
  @IsOptional()
  @IsString()
  @Length(1, 40)
  last_event_id?: string;
}
