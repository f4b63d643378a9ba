import { Module } from '@nestjs/common';
import { AlertsModule } from '../alerts/alerts.module';
import { RatesModule } from '../rates/rates.module';
import { UsersModule } from '../users/users.module';
import { TransactionsController } from './transactions.controller';
import { TransactionsRepository } from './transactions.repository';
import { TransactionsService } from './transactions.service';

@Module({
  imports: [RatesModule, AlertsModule, UsersModule],
  controllers: [TransactionsController],
  providers: [TransactionsRepository, TransactionsService],
  exports: [TransactionsService],
})
export class TransactionsModule {}
