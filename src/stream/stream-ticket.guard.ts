import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { ValidationFailedError } from '../common/errors/app-error';
import { type StreamAdmission, StreamService } from './stream.service';

export const TICKET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

interface StreamRequest {
  query?: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  streamAdmission?: StreamAdmission;
}

/**
 * Admits GET /stream by its ticket. A guard, not the handler: Nest answers an @Sse() handler's
 * late failure inside the already started event stream (200 with an `error` event), while a
 * guard's refusal is an ordinary error answer (401 INVALID_TICKET, 403, 429, 400).
 */
@Injectable()
export class StreamTicketGuard implements CanActivate {
  constructor(private readonly streams: StreamService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<StreamRequest>();
    // refused before the ticket is used up (the validation pipe would refuse them after)
    const unknown = Object.keys(req.query ?? {}).filter((k) => k !== 'ticket' && k !== 'last_event_id');
    if (unknown.length > 0) {
      throw new ValidationFailedError(
        unknown.map((field) => ({ field, message: 'is not a parameter of GET /stream' })),
      );
    }
    const ticket = req.query?.ticket;
    if (typeof ticket !== 'string' || !TICKET_PATTERN.test(ticket)) {
      throw new ValidationFailedError([
        { field: 'ticket', message: 'must be a ticket from POST /stream/ticket' },
      ]);
    }
    const header = req.headers['last-event-id'];
    const param = req.query?.last_event_id;
    const lastEventId = typeof header === 'string' ? header : typeof param === 'string' ? param : undefined;
    req.streamAdmission = await this.streams.admit(ticket, lastEventId);
    return true;
  }
}

/** The admission StreamTicketGuard put on the request. */
export function admissionOf(req: StreamRequest): StreamAdmission {
  if (!req.streamAdmission) throw new Error('GET /stream without StreamTicketGuard');
  return req.streamAdmission;
}
