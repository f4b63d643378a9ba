import { Module } from '@nestjs/common';
import { RatesModule } from '../rates/rates.module';
import { UsersModule } from '../users/users.module';
import { WalletModule } from '../wallet/wallet.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { AdminFundingController } from './admin-funding.controller';
import { FundingController } from './funding.controller';
import { FundingRepository } from './funding.repository';
import { FundingService } from './funding.service';

/** Deposits and withdrawals, above the wallet (which they post through) and the reference rate. */
@Module({
  imports: [WalletModule, RatesModule, UsersModule, WebhooksModule],
  controllers: [FundingController, AdminFundingController],
  providers: [FundingRepository, FundingService],
})
export class FundingModule {}
