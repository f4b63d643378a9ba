import { Body, Controller, Delete, Get, Post, Query } from '@nestjs/common';
import { ApiTags, ApiConflictResponse } from '@nestjs/swagger';
import { AuditEvent } from '../audit/audit-events';
import { Audit } from '../audit/audit.decorator';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta';
import { Paged, PageQueryDto, toPage, ApiPaged } from '../common/pagination';
import { IdParam } from '../common/pipes/id-param';
import {
  CreateWatchlistItemDto,
  type WatchlistItemDto,
  WatchlistItemViewDto,
  type WatchlistMessageDto,
} from './dto/watchlist.dto';
import { toWatchlistItemDto, toWatchlistItemViewDto } from './watchlist.mapper';
import { WatchlistService } from './watchlist.service';

@ApiTags('watchlist')
@Controller('watchlist')
export class WatchlistController {
  constructor(private readonly watchlist: WatchlistService) {}

  /**
   * Watch a direction (notified when its 24 h change reaches WATCHLIST_MOVE_PERCENT, at most once a
   * UTC day) or a threshold (notified on each crossing, both ways: on reaching the threshold on the
   * `condition` side, and on going back across it by more than 0.25%; moves inside that band notify
   * nothing). `condition` and `threshold` are required for threshold
   * items and refused for direction items. The same item twice → 409 WATCHLIST_DUPLICATE.
   */
  @Post()
  @Auth()
  @Audit(AuditEvent.WATCHLIST_ADD)
  @ApiConflictResponse({ description: 'WATCHLIST_DUPLICATE: you already watch this item' })
  async create(
    @CurrentUser() user: Principal,
    @Body() dto: CreateWatchlistItemDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<WatchlistItemDto> {
    return toWatchlistItemDto(await this.watchlist.create(user, dto, meta));
  }

  /** Your items, newest first, with `current_rate` and `change_24h_percent`; total in X-Total-Count. */
  @Get()
  @Auth()
  @ApiPaged(WatchlistItemViewDto)
  async list(@CurrentUser() user: Principal, @Query() q: PageQueryDto): Promise<Paged<WatchlistItemViewDto>> {
    const { rows, total } = await this.watchlist.list(user.id, toPage(q));
    return new Paged(
      rows.map((r) => toWatchlistItemViewDto(r.item, r.figures)),
      total,
    );
  }

  /** Removes one of your items (another user's → 404). */
  @Delete(':id')
  @Auth()
  @Audit(AuditEvent.WATCHLIST_REMOVE)
  async remove(
    @CurrentUser() user: Principal,
    @IdParam() id: number,
    @ReqMeta() meta: RequestMeta,
  ): Promise<WatchlistMessageDto> {
    await this.watchlist.remove(user, id, meta);
    return { message: 'Watchlist item deleted' };
  }
}
