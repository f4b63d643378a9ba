import { Module } from '@nestjs/common';
import { WalletModule } from '../wallet/wallet.module';
import { BackupsController } from './backups.controller';
import { BackupsRepository } from './backups.repository';
import { BackupsService } from './backups.service';

/** Backups and restores of the whole database (HTTP, schedule and CLI). */
@Module({
  imports: [WalletModule],
  controllers: [BackupsController],
  providers: [BackupsRepository, BackupsService],
  exports: [BackupsService],
})
export class BackupsModule {}
