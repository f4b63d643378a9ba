import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { LeaseRepository } from './lease.repository';
import { LeaseService } from './lease.service';
import { SchedulerService } from './scheduler.service';

@Module({
  imports: [ScheduleModule.forRoot()],
  providers: [LeaseRepository, LeaseService, SchedulerService],
  exports: [LeaseService, SchedulerService],
})
export class SchedulerModule {}
