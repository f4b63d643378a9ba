import { Module } from '@nestjs/common';
import { AuthCoreModule } from '../auth/auth-core.module';
import { RatesModule } from '../rates/rates.module';
import { WalletModule } from '../wallet/wallet.module';
import { AdminUsersController } from './admin-users.controller';
import { PreferencesController } from './preferences.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

@Module({
  imports: [AuthCoreModule, WalletModule, RatesModule],
  controllers: [PreferencesController, AdminUsersController],
  providers: [UsersRepository, UsersService],
  exports: [UsersService],
})
export class UsersModule {}
