import { Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { Clock } from './clock';
import { EventBus } from './events/event-bus';
import { AllExceptionsFilter } from './filters/all-exceptions.filter';
import { PagingInterceptor } from './interceptors/paging.interceptor';
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
    { provide: APP_INTERCEPTOR, useClass: PagingInterceptor },
  ],
  exports: [Clock, MaintenanceState, Lifecycle, EventBus],
})
export class CommonModule {}
