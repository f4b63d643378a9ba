import { Controller, Delete } from '@nestjs/common';
import { ApiConflictResponse, ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { AuditEvent } from '../audit/audit-events';
import { Audit } from '../audit/audit.decorator';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta';
import { IdParam } from '../common/pipes/id-param';
import type { OfferCancelledDto } from './dto/offer.dto';
import { OffersService } from './offers.service';

@ApiTags('admin')
@Controller('admin/market/offers')
export class AdminOffersController {
  constructor(private readonly offers: OffersService) {}

  /** Cancels any open offer (moderation): the escrow goes back to its maker, who is notified. */
  @Delete(':id')
  @Auth({ roles: ['ADMIN'], fresh: true })
  @Audit(AuditEvent.ADMIN_OFFER_CANCEL)
  @ApiNotFoundResponse({ description: 'OFFER_NOT_FOUND' })
  @ApiConflictResponse({ description: 'OFFER_NOT_OPEN' })
  cancel(
    @CurrentUser() admin: Principal,
    @IdParam() id: number,
    @ReqMeta() meta: RequestMeta,
  ): Promise<OfferCancelledDto> {
    return this.offers.cancel({ id: admin.id, userName: admin.userName }, id, true, meta);
  }
}
