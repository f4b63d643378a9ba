import { Module } from '@nestjs/common';
import { RatesModule } from '../rates/rates.module';
import { WalletModule } from '../wallet/wallet.module';
import { HouseController } from './house.controller';
import { HouseRepository } from './house.repository';
import { HouseService } from './house.service';

/** Quotes and conversions against the house, above the wallet and the reference rate. */
@Module({
  imports: [WalletModule, RatesModule],
  controllers: [HouseController],
  providers: [HouseRepository, HouseService],
})
export class HouseModule {}
