import { Module } from '@nestjs/common';
import { RatesModule } from '../rates/rates.module';
import { WalletModule } from '../wallet/wallet.module';
import { TransactionsController } from './transactions.controller';
import { TransactionsRepository } from './transactions.repository';
import { TransactionsService } from './transactions.service';

@Module({
  imports: [WalletModule, RatesModule],
  controllers: [TransactionsController],
  providers: [TransactionsRepository, TransactionsService],
  exports: [TransactionsService],
})
export class TransactionsModule {}
