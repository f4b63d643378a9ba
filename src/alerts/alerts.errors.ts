import { NotFoundError } from '../common/errors/app-error';

export class AlertNotFoundError extends NotFoundError {
  constructor() {
    super('Alert not found.', 'ALERT_NOT_FOUND');
  }
}
