import { AlertEntity } from '../alerts/alert.entity';
import { AuditLogEntity } from '../audit/audit-log.entity';
import { AuthSessionEntity } from '../auth/auth-session.entity';
import { PasswordCheckEntity } from '../auth/password-check.entity';
import { RefreshTokenEntity } from '../auth/refresh-token.entity';
import { IdempotencyKeyEntity } from '../common/idempotency/idempotency-key.entity';
import { FundingRequestEntity } from '../funding/funding-request.entity';
import { ConversionEntity } from '../house/conversion.entity';
import { HousePositionEntity } from '../house/house-position.entity';
import { QuoteEntity } from '../house/quote.entity';
import { OfferEntity } from '../market/offer.entity';
import { TradeEntity } from '../market/trade.entity';
import { NotificationEntity } from '../notifications/notification.entity';
import { RateHourlyEntity } from '../rates/rate-hourly.entity';
import { RateSampleEntity } from '../rates/rate-sample.entity';
import { ReferenceEpochEntity } from '../rates/reference-epoch.entity';
import { ReferenceHistoryEntity } from '../rates/reference-history.entity';
import { OfficialRateEntity } from '../rates/official-rate.entity';
import { StreamTicketEntity } from '../stream/stream-ticket.entity';
import { TransactionEntity } from '../transactions/transaction.entity';
import { LeaseEntity } from '../scheduler/lease.entity';
import { UserPreferencesEntity } from '../users/user-preferences.entity';
import { UserEntity } from '../users/user.entity';
import { LedgerEntryEntity } from '../wallet/ledger-entry.entity';
import { WalletEntity } from '../wallet/wallet.entity';
import { WatchlistItemEntity } from '../watchlist/watchlist-item.entity';
import { WebhookDeliveryEntity } from '../webhooks/webhook-delivery.entity';
import { WebhookEndpointEntity } from '../webhooks/webhook-endpoint.entity';

/** Every entity, for the app, the TypeORM CLI (ormconfig.ts) and the migration generator. */
export const ENTITIES = [
  UserEntity,
  UserPreferencesEntity,
  AuthSessionEntity,
  RefreshTokenEntity,
  PasswordCheckEntity,
  AuditLogEntity,
  WalletEntity,
  LedgerEntryEntity,
  IdempotencyKeyEntity,
  TransactionEntity,
  RateSampleEntity,
  RateHourlyEntity,
  ReferenceHistoryEntity,
  ReferenceEpochEntity,
  OfficialRateEntity,
  NotificationEntity,
  LeaseEntity,
  AlertEntity,
  WatchlistItemEntity,
  OfferEntity,
  TradeEntity,
  FundingRequestEntity,
  QuoteEntity,
  ConversionEntity,
  HousePositionEntity,
  StreamTicketEntity,
  WebhookEndpointEntity,
  WebhookDeliveryEntity,
];
