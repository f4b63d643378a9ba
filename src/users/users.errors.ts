import { BusinessRuleError, ConflictError, ForbiddenError, NotFoundError } from '../common/errors/app-error';

export class UserNotFoundError extends NotFoundError {
  constructor() {
    super('User not found.', 'USER_NOT_FOUND');
  }
}

export class UserNameTakenError extends ConflictError {
  constructor() {
    super('This user name is already taken.', 'USER_NAME_TAKEN');
  }
}

export class LastAdminError extends BusinessRuleError {
  constructor(what = 'demoted') {
    super('LAST_ADMIN', `The last active admin cannot be ${what}.`);
  }
}

/** The acting admin was demoted, suspended or banned while the request ran (say, by another admin). */
export class ActorNoLongerAdminError extends ForbiddenError {
  constructor() {
    super(
      'Only an active admin can do this, and your account changed while the request ran.',
      'FORBIDDEN_ROLE',
    );
  }
}
