import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuditEvent } from '../audit/audit-events';
import { Audit } from '../audit/audit.decorator';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta';
import { IdempotencyKey, Idempotent } from '../common/idempotency/idempotent.decorator';
import { Paged, PageQueryDto, toPage, ApiPaged } from '../common/pagination';
import { IdParam } from '../common/pipes/id-param';
import {
  AdjustWalletDto,
  LedgerEntryDto,
  type LedgerVerifyDto,
  type WalletAdjustedDto,
  type WalletDto,
} from './dto/wallet.dto';
import { toLedgerEntryDto, toWalletDto } from './wallet.mapper';
import { WalletService } from './wallet.service';

@ApiTags('wallet')
@Controller()
export class WalletController {
  constructor(private readonly wallets: WalletService) {}

  /** Your balances: available (`*_balance`) and escrowed in open offers (`*_held`). */
  @Get('wallet')
  @Auth({ wallet: true })
  async wallet(@CurrentUser() user: Principal): Promise<WalletDto> {
    return toWalletDto(await this.wallets.callerBalances(user));
  }

  /** Your ledger entries, newest first; total in X-Total-Count. */
  @Get('wallet/ledger')
  @Auth()
  @ApiPaged(LedgerEntryDto)
  async ledger(@CurrentUser() user: Principal, @Query() q: PageQueryDto): Promise<Paged<LedgerEntryDto>> {
    const { rows, total } = await this.wallets.ledger(user.id, toPage(q));
    return new Paged(rows.map(toLedgerEntryDto), total);
  }

  /** Credit or debit a user's available balance against external funding (audited; never below zero). */
  @Post('admin/users/:id/wallet/adjust')
  @HttpCode(200)
  @Auth({ roles: ['ADMIN'], fresh: true })
  @Idempotent()
  @Audit(AuditEvent.ADMIN_WALLET_ADJUST)
  async adjust(
    @CurrentUser() admin: Principal,
    @IdParam() id: number,
    @Body() dto: AdjustWalletDto,
    @ReqMeta() meta: RequestMeta,
    @IdempotencyKey() key?: string,
  ): Promise<WalletAdjustedDto> {
    return this.wallets.adjustIdempotently(admin, id, dto, meta, key);
  }

  /** Checks the ledger invariants live: each currency sums to zero, balances equal their entries, none negative. */
  @Get('admin/ledger/verify')
  @Auth({ roles: ['ADMIN'] })
  verify(): Promise<LedgerVerifyDto> {
    return this.wallets.verify();
  }
}
