import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { AUDIT_EVENT } from '../common/route-metadata';
import { AuditInterceptor } from './audit.interceptor';
import type { AuditEventType } from './audit-events';

/**
 * Names the audit event of a route. Services write the success row inside their own transaction
 * (so action and row commit together); the AuditInterceptor writes the row for a refused request
 * unless the service already did. The interceptor is the route's own, not global: a route without
 * this decorator runs no interceptor at all, and Nest then calls its handler without building an
 * rxjs pipeline per request (profile of GET /whoami, docs/BENCHMARKS.md).
 */
export const Audit = (event: AuditEventType): MethodDecorator =>
  applyDecorators(SetMetadata(AUDIT_EVENT, event), UseInterceptors(AuditInterceptor));
