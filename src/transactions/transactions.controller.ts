import { Body, Controller, Get, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { AuditEvent } from '../audit/audit-events';
import { Audit } from '../audit/audit.decorator';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta';
import { IdempotencyKey, Idempotent } from '../common/idempotency/idempotent.decorator';
import { Paged, toPage, ApiPaged } from '../common/pagination';
import { RateLimit } from '../common/throttling/rate-limit.decorator';
import {
  CreateTransactionDto,
  type TransactionCreatedDto,
  TransactionDto,
  TransactionFilterDto,
  TransactionQueryDto,
} from './dto/transaction.dto';
import { toTransactionDto } from './transaction.mapper';
import { TransactionsService } from './transactions.service';

@ApiTags('transactions')
@Controller()
export class TransactionsController {
  constructor(private readonly transactions: TransactionsService) {}

  /**
   * Record an exchange you made elsewhere (at a shop, on the street) at the rate you got
   * (`lbp_amount / usd_amount`). A record moves no wallet money and needs no balance: it is a rate
   * report that feeds the reference rate. Refused with 422 RATE_OUTLIER (with the baseline of the
   * other contributors in `details`) when the rate is far off the market. Rate-limited per user.
   */
  @Post('transaction')
  @Auth()
  @Idempotent()
  @RateLimit('transaction')
  @Audit(AuditEvent.TRANSACTION_CREATE)
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED, with Retry-After' })
  create(
    @CurrentUser() user: Principal,
    @Body() dto: CreateTransactionDto,
    @ReqMeta() meta: RequestMeta,
    @IdempotencyKey() key?: string,
  ): Promise<TransactionCreatedDto> {
    return this.transactions.create(user, dto, meta, key);
  }

  /** Your transactions, newest first; filters `from`, `to`, `direction`; total in X-Total-Count. */
  @Get('transactions')
  @Auth()
  @ApiPaged(TransactionDto)
  async list(
    @CurrentUser() user: Principal,
    @Query() q: TransactionQueryDto,
  ): Promise<Paged<TransactionDto>> {
    const { rows, total } = await this.transactions.list(user, q, toPage(q));
    return new Paged(rows.map(toTransactionDto), total);
  }

  /** Same as GET /transactions (older clients). */
  @Get('transaction')
  @Auth()
  @ApiPaged(TransactionDto)
  async listLegacy(
    @CurrentUser() user: Principal,
    @Query() q: TransactionQueryDto,
  ): Promise<Paged<TransactionDto>> {
    return this.list(user, q);
  }

  /** CSV export of your transactions (same filters), streamed. */
  @Get('transactions/export')
  @Auth()
  @ApiProduces('text/csv')
  @ApiOkResponse({
    description:
      'Header `id,usd_amount,lbp_amount,usd_to_lbp,direction,rate,created_at`; attachment transactions_user<ID>_<YYYYmmdd_HHMMSS>.csv',
    content: { 'text/csv': { schema: { type: 'string' } } },
  })
  export(@CurrentUser() user: Principal, @Query() q: TransactionFilterDto): StreamableFile {
    const { filename, stream } = this.transactions.exportCsv(user.id, q);
    return new StreamableFile(stream, {
      type: 'text/csv; charset=utf-8',
      disposition: `attachment; filename=${filename}`,
    });
  }
}
