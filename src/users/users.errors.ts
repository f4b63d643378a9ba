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

export class SelfModificationError extends ForbiddenError {
  constructor(what: string) {
    super(`Admins cannot change their own ${what}.`, 'SELF_MODIFICATION_FORBIDDEN');
  }
}

export class LastAdminError extends BusinessRuleError {
  constructor() {
    super('LAST_ADMIN', 'The last admin cannot be demoted.');
  }
}
