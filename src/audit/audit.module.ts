import { Global, Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';
import { RefusalAuditor } from './refusal-auditor';

/** Global so every feature (and the guards) can write audit rows. */
@Global()
@Module({
  controllers: [AuditController],
  providers: [AuditRepository, AuditService, RefusalAuditor],
  exports: [AuditService, RefusalAuditor],
})
export class AuditModule {}
