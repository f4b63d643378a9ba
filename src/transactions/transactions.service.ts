import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { AlertsService } from '../alerts/alerts.service';
import { AuditEvent } from '../audit/audit-events';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import { ReadReplica } from '../database/read-replica';
import { Clock } from '../common/clock';
import { parseRange, fileStamp } from '../common/dates';
import type { RequestMeta } from '../common/http/request-meta';
import { IdempotencyService } from '../common/idempotency/idempotency.service';
import { formatMinor, impliedRate, toMinor, roundRate } from '../common/money';
import type { Page } from '../common/pagination';
import type { Direction } from '../rates/rate-sample.entity';
import { RatesService } from '../rates/rates.service';
import { UsersService } from '../users/users.service';
import type {
  CreateTransactionDto,
  TransactionCreatedDto,
  TransactionFilterDto,
} from './dto/transaction.dto';
import type { TransactionEntity } from './transaction.entity';
import { toTransactionDto } from './transaction.mapper';
import { type TransactionFilter, TransactionsRepository } from './transactions.repository';
import { METRICS } from '../metrics/metrics';

const CSV_HEADER = 'id,usd_amount,lbp_amount,usd_to_lbp,direction,rate,created_at\n';
const EXPORT_CHUNK = 1000;

@Injectable()
export class TransactionsService {
  constructor(
    private readonly repo: TransactionsRepository,
    private readonly rates: RatesService,
    private readonly idempotency: IdempotencyService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly alerts: AlertsService,
    private readonly reads: ReadReplica,
    private readonly users: UsersService,
  ) {}

  /**
   * A record of an exchange the user made elsewhere: it moves no wallet money and needs no balance.
   * In one transaction: the outlier guard (against the other contributors' baseline), the
   * transaction row, the audit row and the rate sample with its rollup. Honours an Idempotency-Key.
   */
  async create(
    p: Principal,
    dto: CreateTransactionDto,
    meta: RequestMeta,
    key?: string,
  ): Promise<TransactionCreatedDto> {
    const usd = toMinor(dto.usd_amount);
    const lbp = toMinor(dto.lbp_amount);
    const rate = impliedRate(usd, lbp);
    const direction: Direction = dto.usd_to_lbp ? 'usd_to_lbp' : 'lbp_to_usd';
    // read before the transaction (see RatesService.liveBaseline); judged inside, so a replay of an
    // Idempotency-Key is answered as the first time whatever the market did since
    const baseline = await this.rates.liveBaseline(direction, p.id);
    let recorded = false;
    const result = await this.idempotency.execute(
      { userId: p.id, key, request: { route: 'transaction', ...dto } },
      async (m) => {
        const now = this.clock.now();
        const verdict = this.rates.accept(baseline, rate);
        const tx = await this.repo.insert(
          { userId: p.id, usdAmount: usd, lbpAmount: lbp, usdToLbp: dto.usd_to_lbp, rate, createdAt: now },
          m,
        );
        await this.users.addTransactionRecord(p.id, m);
        await this.audit.record(
          {
            event: AuditEvent.TRANSACTION_CREATE,
            action: 'create transaction',
            success: true,
            statusCode: 201,
            actor: { id: p.id, userName: p.userName },
            targetUserId: p.id,
            metadata: {
              transaction_id: tx.id,
              direction,
              usd_amount: formatMinor(usd),
              lbp_amount: formatMinor(lbp),
              rate: roundRate(rate),
              idempotency_key: key ?? null,
            },
            request: meta,
          },
          m,
        );
        const body: TransactionCreatedDto = {
          message: 'Transaction added successfully',
          ...toTransactionDto(tx),
        };
        // Last: the sample's hourly rollup row is shared by every sample of the hour, so its lock is
        // taken as late as possible and held only until the commit.
        await this.rates.record(
          {
            direction,
            rate,
            source: 'transaction',
            usdVolume: usd,
            userId: p.id,
            transactionId: tx.id,
            // counts toward the reference only when the account is established now
            counted: p.established,
            createdAt: now,
          },
          m,
          verdict,
        );
        recorded = true;
        return { status: 201, body };
      },
    );
    if (recorded) METRICS.transactions.inc({ direction }); // committed, and not a replay
    // After the commit: alerts see the new reference rate; a failed evaluation is logged, never thrown.
    await this.alerts.evaluateAfterCommit(direction);
    return result.body;
  }

  /**
   * The caller's records, a page of them; unfiltered, the total is the count kept on their account
   * (read with the session), so no page counts.
   */
  list(
    p: Principal,
    q: TransactionFilterDto,
    page: Page,
  ): Promise<{ rows: TransactionEntity[]; total: number }> {
    const filter = this.filter(p.id, q);
    const unfiltered = !filter.from && !filter.to && !filter.direction;
    return this.reads.run(p.id, () =>
      this.repo.list(filter, page, unfiltered ? p.user.transactionsCount : null),
    );
  }

  /** CSV of the user's transactions, produced chunk by chunk (keyset pages), never all in memory. */
  exportCsv(userId: number, q: TransactionFilterDto): { filename: string; stream: Readable } {
    const filter = this.filter(userId, q);
    const repo = this.repo;
    const reads = this.reads;
    async function* rows(): AsyncGenerator<string> {
      yield CSV_HEADER;
      for await (const chunk of reads.iterate(userId, () => repo.chunks(filter, EXPORT_CHUNK)))
        yield chunk.map(csvLine).join('');
    }
    const stamp = fileStamp(this.clock.now());
    return { filename: `transactions_user${userId}_${stamp}.csv`, stream: Readable.from(rows()) };
  }

  private filter(userId: number, q: TransactionFilterDto): TransactionFilter {
    const { from, to } = parseRange(q.from, q.to);
    return { userId, from, to, direction: q.direction };
  }
}

function csvLine(t: TransactionEntity): string {
  const direction = t.usdToLbp ? 'usd_to_lbp' : 'lbp_to_usd';
  return `${t.id},${formatMinor(t.usdAmount)},${formatMinor(t.lbpAmount)},${t.usdToLbp},${direction},${roundRate(t.rate)},${t.createdAt.toISOString()}\n`;
}
