import { Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Clock } from './clock';
import { EventBus } from './events/event-bus';
import { AllExceptionsFilter } from './filters/all-exceptions.filter';
import { Lifecycle } from './lifecycle';
import { MaintenanceState } from './maintenance';

@Global()
@Module({
  providers: [
    Clock,
    MaintenanceState,
    Lifecycle,
    EventBus,
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
  ],
  exports: [Clock, MaintenanceState, Lifecycle, EventBus],
})
export class CommonModule {}
