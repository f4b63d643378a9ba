import { BusinessRuleError, ConflictError, NotFoundError } from '../common/errors/app-error';
import type { OfferStatus } from './offer.entity';

export class OfferNotFoundError extends NotFoundError {
  constructor() {
    super('Offer not found.', 'OFFER_NOT_FOUND');
  }
}

/** The offer is no longer OPEN (taken, cancelled, expired), or has less left than asked for. */
export class OfferNotOpenError extends ConflictError {
  constructor(status: OfferStatus) {
    super(
      status === 'COMPLETED'
        ? 'This offer has already been taken.'
        : `This offer is no longer open (${status.toLowerCase()}).`,
      'OFFER_NOT_OPEN',
    );
  }
}

export class OfferRemainderTooSmallError extends ConflictError {
  constructor(remaining: string, currency: string) {
    super(`Only ${remaining} ${currency} of this offer is left.`, 'OFFER_REMAINDER_TOO_SMALL');
  }
}

export class OwnOfferError extends BusinessRuleError {
  constructor() {
    super('OWN_OFFER', 'You cannot accept your own offer.');
  }
}
