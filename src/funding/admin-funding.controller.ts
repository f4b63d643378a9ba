import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiTags } from '@nestjs/swagger';
import { AuditEvent } from '../audit/audit-events';
import { Audit } from '../audit/audit.decorator';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta';
import { IdempotencyKey, Idempotent } from '../common/idempotency/idempotent.decorator';
import { ApiPaged, Paged, toPage } from '../common/pagination';
import { IdParam } from '../common/pipes/id-param';
import { AdminFundingQueryDto, DepositDto, FundingDecisionDto, WithdrawalDto } from './dto/funding.dto';
import type { FundingKind } from './funding-request.entity';
import { toDepositDto, toWithdrawalDto } from './funding.mapper';
import { type Decision, FundingService } from './funding.service';

const actorOf = (p: Principal) => ({ id: p.id, userName: p.userName });

/**
 * Admins decide on deposits and withdrawals (fresh token). Each request moves from PENDING once,
 * whoever decides at the same moment (the second gets 409 NOT_PENDING); never on one's own request
 * (403 SELF_MODIFICATION_FORBIDDEN).
 */
@ApiTags('admin')
@Controller('admin')
export class AdminFundingController {
  constructor(private readonly funding: FundingService) {}

  /** Every user's deposits, newest first; filters `status`, `user_id`; total in X-Total-Count. */
  @Get('deposits')
  @Auth({ roles: ['ADMIN'] })
  @ApiPaged(DepositDto)
  async deposits(@Query() q: AdminFundingQueryDto): Promise<Paged<DepositDto>> {
    const { rows, total } = await this.funding.list(
      { kind: 'DEPOSIT', userId: q.user_id, status: q.status },
      toPage(q),
    );
    return new Paged(rows.map(toDepositDto), total);
  }

  /** Every user's withdrawals, newest first; filters `status`, `user_id`; total in X-Total-Count. */
  @Get('withdrawals')
  @Auth({ roles: ['ADMIN'] })
  @ApiPaged(WithdrawalDto)
  async withdrawals(@Query() q: AdminFundingQueryDto): Promise<Paged<WithdrawalDto>> {
    const { rows, total } = await this.funding.list(
      { kind: 'WITHDRAWAL', userId: q.user_id, status: q.status },
      toPage(q),
    );
    return new Paged(rows.map(toWithdrawalDto), total);
  }

  /** The money arrived: credits the user's wallet from funding; the user is notified. */
  @Post('deposits/:id/confirm')
  @HttpCode(200)
  @Auth({ roles: ['ADMIN'], fresh: true })
  @Idempotent()
  @Audit(AuditEvent.DEPOSIT_CONFIRM)
  @ApiConflictResponse({ description: 'NOT_PENDING' })
  async confirmDeposit(
    @CurrentUser() admin: Principal,
    @IdParam() id: number,
    @Body() dto: FundingDecisionDto,
    @ReqMeta() meta: RequestMeta,
    @IdempotencyKey() key?: string,
  ): Promise<DepositDto> {
    return (await this.decide(admin, 'DEPOSIT', id, 'confirm', dto, meta, key)) as DepositDto;
  }

  /** The money never arrived: nothing is credited; the user is notified. */
  @Post('deposits/:id/reject')
  @HttpCode(200)
  @Auth({ roles: ['ADMIN'], fresh: true })
  @Idempotent()
  @Audit(AuditEvent.DEPOSIT_REJECT)
  @ApiConflictResponse({ description: 'NOT_PENDING' })
  async rejectDeposit(
    @CurrentUser() admin: Principal,
    @IdParam() id: number,
    @Body() dto: FundingDecisionDto,
    @ReqMeta() meta: RequestMeta,
    @IdempotencyKey() key?: string,
  ): Promise<DepositDto> {
    return (await this.decide(admin, 'DEPOSIT', id, 'reject', dto, meta, key)) as DepositDto;
  }

  /** Paid out: the held amount leaves the wallet to funding; the user is notified. */
  @Post('withdrawals/:id/complete')
  @HttpCode(200)
  @Auth({ roles: ['ADMIN'], fresh: true })
  @Idempotent()
  @Audit(AuditEvent.WITHDRAWAL_COMPLETE)
  @ApiConflictResponse({ description: 'NOT_PENDING' })
  async completeWithdrawal(
    @CurrentUser() admin: Principal,
    @IdParam() id: number,
    @Body() dto: FundingDecisionDto,
    @ReqMeta() meta: RequestMeta,
    @IdempotencyKey() key?: string,
  ): Promise<WithdrawalDto> {
    return (await this.decide(admin, 'WITHDRAWAL', id, 'complete', dto, meta, key)) as WithdrawalDto;
  }

  /** Not paid out: the held amount is available to the user again; the user is notified. */
  @Post('withdrawals/:id/reject')
  @HttpCode(200)
  @Auth({ roles: ['ADMIN'], fresh: true })
  @Idempotent()
  @Audit(AuditEvent.WITHDRAWAL_REJECT)
  @ApiConflictResponse({ description: 'NOT_PENDING' })
  async rejectWithdrawal(
    @CurrentUser() admin: Principal,
    @IdParam() id: number,
    @Body() dto: FundingDecisionDto,
    @ReqMeta() meta: RequestMeta,
    @IdempotencyKey() key?: string,
  ): Promise<WithdrawalDto> {
    return (await this.decide(admin, 'WITHDRAWAL', id, 'reject', dto, meta, key)) as WithdrawalDto;
  }

  private decide(
    admin: Principal,
    kind: FundingKind,
    id: number,
    decision: Decision,
    dto: FundingDecisionDto,
    meta: RequestMeta,
    key: string | undefined,
  ) {
    return this.funding.decide(actorOf(admin), kind, id, decision, dto ?? {}, meta, key);
  }
}
