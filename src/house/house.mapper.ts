import { toMajor } from '../common/money';
import type { ConversionEntity } from './conversion.entity';
import type { ConversionDto, QuoteDto } from './dto/house.dto';
import type { QuoteEntity } from './quote.entity';

export function toQuoteDto(q: QuoteEntity): QuoteDto {
  return {
    id: q.id,
    from_currency: q.fromCurrency,
    to_currency: q.toCurrency,
    from_amount: toMajor(q.fromAmount),
    to_amount: toMajor(q.toAmount),
    rate: q.rate,
    reference_rate: q.referenceRate,
    spread_percent: q.spreadPercent,
    expires_at: q.expiresAt.toISOString(),
    created_at: q.createdAt.toISOString(),
  };
}

export function toConversionDto(c: ConversionEntity): ConversionDto {
  return {
    id: c.id,
    quote_id: c.quoteId,
    from_currency: c.fromCurrency,
    from_amount: toMajor(c.fromAmount),
    to_currency: c.toCurrency,
    to_amount: toMajor(c.toAmount),
    rate: c.rate,
    reference_rate: c.referenceRate,
    created_at: c.createdAt.toISOString(),
  };
}
