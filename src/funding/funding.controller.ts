import { Body, Controller, Delete, Get, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { AuditEvent } from '../audit/audit-events';
import { Audit } from '../audit/audit.decorator';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta';
import { IdempotencyKey, Idempotent } from '../common/idempotency/idempotent.decorator';
import { ApiPaged, Paged, toPage } from '../common/pagination';
import { IdParam } from '../common/pipes/id-param';
import { RateLimit } from '../common/throttling/rate-limit.decorator';
import {
  CreateDepositDto,
  CreateWithdrawalDto,
  DepositDto,
  FundingListQueryDto,
  WithdrawalDto,
} from './dto/funding.dto';
import { toDepositDto, toWithdrawalDto } from './funding.mapper';
import { FundingService } from './funding.service';

const actorOf = (p: Principal) => ({ id: p.id, userName: p.userName });

/** Your deposits and withdrawals: the custodial wallet's doors, each decided by an admin. */
@ApiTags('funding')
@Controller('wallet')
export class FundingController {
  constructor(private readonly funding: FundingService) {}

  /**
   * Tell the operator you handed them money (a transfer, an agent): a PENDING deposit that an admin
   * confirms (crediting your wallet) or rejects. Within DEPOSIT_DAILY_LIMIT_USD a UTC day, pending
   * and completed deposits valued at the reference rate (422 LIMIT_EXCEEDED; 422 NO_QUOTE for LBP
   * without a reference rate). Rate-limited per user.
   */
  @Post('deposits')
  @Auth()
  @Idempotent()
  @RateLimit('funding')
  @Audit(AuditEvent.DEPOSIT_REQUEST)
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After' })
  requestDeposit(
    @CurrentUser() user: Principal,
    @Body() dto: CreateDepositDto,
    @ReqMeta() meta: RequestMeta,
    @IdempotencyKey() key?: string,
  ): Promise<DepositDto> {
    return this.funding.requestDeposit(actorOf(user), dto, meta, key);
  }

  /**
   * Ask to be paid out: the amount moves from your available to your held balance at once (422
   * INSUFFICIENT_BALANCE when short) until an admin completes (pays it out) or rejects (releases it)
   * the PENDING withdrawal. Within WITHDRAWAL_DAILY_LIMIT_USD a UTC day (422 LIMIT_EXCEEDED).
   * Rate-limited per user.
   */
  @Post('withdrawals')
  @Auth()
  @Idempotent()
  @RateLimit('funding')
  @Audit(AuditEvent.WITHDRAWAL_REQUEST)
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After' })
  requestWithdrawal(
    @CurrentUser() user: Principal,
    @Body() dto: CreateWithdrawalDto,
    @ReqMeta() meta: RequestMeta,
    @IdempotencyKey() key?: string,
  ): Promise<WithdrawalDto> {
    return this.funding.requestWithdrawal(actorOf(user), dto, meta, key);
  }

  /** Your deposits, newest first (filter `status`); total in X-Total-Count. */
  @Get('deposits')
  @Auth()
  @ApiPaged(DepositDto)
  async deposits(
    @CurrentUser() user: Principal,
    @Query() q: FundingListQueryDto,
  ): Promise<Paged<DepositDto>> {
    const { rows, total } = await this.funding.list(
      { kind: 'DEPOSIT', userId: user.id, status: q.status },
      toPage(q),
    );
    return new Paged(rows.map(toDepositDto), total);
  }

  /** Your withdrawals, newest first (filter `status`); total in X-Total-Count. */
  @Get('withdrawals')
  @Auth()
  @ApiPaged(WithdrawalDto)
  async withdrawals(
    @CurrentUser() user: Principal,
    @Query() q: FundingListQueryDto,
  ): Promise<Paged<WithdrawalDto>> {
    const { rows, total } = await this.funding.list(
      { kind: 'WITHDRAWAL', userId: user.id, status: q.status },
      toPage(q),
    );
    return new Paged(rows.map(toWithdrawalDto), total);
  }

  /** Cancel one of your PENDING deposits (someone else's: 404; not pending: 409 NOT_PENDING). */
  @Delete('deposits/:id')
  @Auth()
  @Audit(AuditEvent.DEPOSIT_CANCEL)
  @ApiConflictResponse({ description: 'NOT_PENDING' })
  async cancelDeposit(
    @CurrentUser() user: Principal,
    @IdParam() id: number,
    @ReqMeta() meta: RequestMeta,
  ): Promise<DepositDto> {
    return (await this.funding.cancel(actorOf(user), 'DEPOSIT', id, meta)) as DepositDto;
  }

  /** Cancel one of your PENDING withdrawals; its amount is available again (404 / 409 as above). */
  @Delete('withdrawals/:id')
  @Auth()
  @Audit(AuditEvent.WITHDRAWAL_CANCEL)
  @ApiConflictResponse({ description: 'NOT_PENDING' })
  async cancelWithdrawal(
    @CurrentUser() user: Principal,
    @IdParam() id: number,
    @ReqMeta() meta: RequestMeta,
  ): Promise<WithdrawalDto> {
    return (await this.funding.cancel(actorOf(user), 'WITHDRAWAL', id, meta)) as WithdrawalDto;
  }
}
