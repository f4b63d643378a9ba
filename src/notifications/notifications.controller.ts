import { Controller, Delete, Get, Patch, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { Paged, toPage, ApiPaged } from '../common/pagination';
import { IdParam } from '../common/pipes/id-param';
import {
  NotificationDto,
  type NotificationMessageDto,
  NotificationQueryDto,
  type ReadAllDto,
  type UnreadCountDto,
} from './dto/notification.dto';
import { toNotificationDto } from './notification.mapper';
import { NotificationsService } from './notifications.service';

@ApiTags('notifications')
@Controller('notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  /** Your notifications, newest first; `unread_only=true` for the unread ones; total in X-Total-Count. */
  @Get()
  @Auth()
  @ApiPaged(NotificationDto)
  async list(
    @CurrentUser() user: Principal,
    @Query() q: NotificationQueryDto,
  ): Promise<Paged<NotificationDto>> {
    const { rows, total } = await this.notifications.list(user.id, q.unread_only === 'true', toPage(q));
    return new Paged(rows.map(toNotificationDto), total);
  }

  @Get('unread-count')
  @Auth()
  async unreadCount(@CurrentUser() user: Principal): Promise<UnreadCountDto> {
    return { count: await this.notifications.unreadCount(user.id) };
  }

  /** Marks all of your notifications read. */
  @Patch('read-all')
  @Auth()
  async readAll(@CurrentUser() user: Principal): Promise<ReadAllDto> {
    return {
      message: 'All notifications marked as read',
      updated: await this.notifications.markAllRead(user.id),
    };
  }

  /** Marks one of your notifications read (another user's → 404). */
  @Patch(':id/read')
  @Auth()
  async read(@CurrentUser() user: Principal, @IdParam() id: number): Promise<NotificationDto> {
    return toNotificationDto(await this.notifications.markRead(user.id, id));
  }

  /** Deletes one of your notifications (another user's → 404). */
  @Delete(':id')
  @Auth()
  async delete(@CurrentUser() user: Principal, @IdParam() id: number): Promise<NotificationMessageDto> {
    await this.notifications.delete(user.id, id);
    return { message: 'Notification deleted' };
  }
}
