import { Module } from '@nestjs/common';
import { RatesModule } from '../rates/rates.module';
import { UsersModule } from '../users/users.module';
import { AdminAlertsController } from './admin-alerts.controller';
import { AlertsController } from './alerts.controller';
import { AlertsRepository } from './alerts.repository';
import { AlertsService } from './alerts.service';

/** Rate alerts; AlertsService is exported so rate-moving features evaluate after they commit. */
@Module({
  imports: [RatesModule, UsersModule],
  controllers: [AlertsController, AdminAlertsController],
  providers: [AlertsRepository, AlertsService],
  exports: [AlertsService],
})
export class AlertsModule {}
