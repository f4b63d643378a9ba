import { Module } from '@nestjs/common';
import { AlertsModule } from '../alerts/alerts.module';
import { RatesModule } from '../rates/rates.module';
import { UsersModule } from '../users/users.module';
import { WalletModule } from '../wallet/wallet.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { AdminOffersController } from './admin-offers.controller';
import { OffersController } from './offers.controller';
import { OffersRepository } from './offers.repository';
import { OffersService } from './offers.service';

/** The P2P marketplace: offers with escrow, takes, trades, expiry and moderation. */
@Module({
  imports: [WalletModule, RatesModule, AlertsModule, UsersModule, WebhooksModule],
  controllers: [OffersController, AdminOffersController],
  providers: [OffersRepository, OffersService],
  exports: [OffersService],
})
export class OffersModule {}
