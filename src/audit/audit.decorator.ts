import { SetMetadata } from '@nestjs/common';
import type { AuditEventType } from './audit-events';

export const AUDIT_EVENT = 'audit:event';

/**
 * Names the audit event of a route. Services write the success row inside their own transaction
 * (so action and row commit together); the AuditInterceptor writes the row for a refused request
 * unless the service already did.
 */
export const Audit = (event: AuditEventType): MethodDecorator => SetMetadata(AUDIT_EVENT, event);
