import { Controller, type MessageEvent, Post, Query, Req, Sse, UseGuards } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiProduces,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Observable } from 'rxjs';
import { Auth, CurrentUser, Public } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { RateLimit } from '../common/throttling/rate-limit.decorator';
import { StreamQueryDto, type StreamTicketDto } from './dto/stream.dto';
import { admissionOf, StreamTicketGuard } from './stream-ticket.guard';
import { StreamService } from './stream.service';

@ApiTags('stream')
@Controller('stream')
export class StreamController {
  constructor(private readonly streams: StreamService) {}

  /**
   * A one-time ticket for GET /stream (EventSource cannot send an Authorization header), bound to
   * this login session: the stream ends when the session does (logout, revocation, suspension).
   */
  @Post('ticket')
  @Auth()
  @RateLimit('stream')
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After' })
  async ticket(@CurrentUser() user: Principal): Promise<StreamTicketDto> {
    const t = await this.streams.issueTicket(user.sessionId);
    return { ticket: t.ticket, expires_at: t.expiresAt.toISOString() };
  }

  /**
   * Server-Sent Events. `rate` (the published rate changed: the GET /exchangeRate body; one on
   * connect), `offer` (`{action: created|filled|cancelled|expired, offer}`: the open order book
   * changed) and your own `notification`s (as GET /notifications lists them). Every event has an id;
   * reconnect with it as Last-Event-ID (or `last_event_id`) to get the notifications you missed. A
   * comment every STREAM_HEARTBEAT_SECONDS. At most STREAM_MAX_PER_USER open streams per user.
   */
  @Sse()
  @Public()
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: 'The event stream',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiUnauthorizedResponse({ description: 'INVALID_TICKET: unknown, used or expired' })
  @ApiTooManyRequestsResponse({ description: 'TOO_MANY_STREAMS, with Retry-After' })
  @UseGuards(StreamTicketGuard)
  open(@Query() _q: StreamQueryDto, @Req() req: Parameters<typeof admissionOf>[0]): Observable<MessageEvent> {
    return this.streams.stream(admissionOf(req));
  }
}
