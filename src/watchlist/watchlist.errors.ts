import { ConflictError, NotFoundError } from '../common/errors/app-error';

export class WatchlistItemNotFoundError extends NotFoundError {
  constructor() {
    super('Watchlist item not found.', 'WATCHLIST_ITEM_NOT_FOUND');
  }
}

export class WatchlistDuplicateError extends ConflictError {
  constructor() {
    super('This item is already on your watchlist.', 'WATCHLIST_DUPLICATE');
  }
}
