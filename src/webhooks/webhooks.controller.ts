import { Body, Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { AuditEvent } from '../audit/audit-events';
import { Audit } from '../audit/audit.decorator';
import { Auth, CurrentUser } from '../auth/auth.decorators';
import type { Principal } from '../auth/principal';
import { ReqMeta, type RequestMeta } from '../common/http/request-meta';
import { ApiPaged, Paged, PageQueryDto, toPage } from '../common/pagination';
import { IdParam } from '../common/pipes/id-param';
import { RateLimit } from '../common/throttling/rate-limit.decorator';
import {
  CreateWebhookDto,
  type WebhookCreatedDto,
  type WebhookDeletedDto,
  WebhookDeliveryDto,
  WebhookDto,
  type WebhookSecretDto,
  type WebhookTestDto,
} from './dto/webhook.dto';
import { toDeliveryDto, toWebhookDto } from './webhook.mapper';
import { type Actor, WebhooksService } from './webhooks.service';

const actorOf = (p: Principal): Actor => ({ id: p.id, userName: p.userName, role: p.role });

/**
 * Your webhooks: HTTPS endpoints that receive your events as signed POSTs (Standard Webhooks:
 * `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`), at least once,
 * retried with exponential backoff, with a delivery log. Another user's webhooks are 404.
 */
@ApiTags('webhooks')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  /**
   * Registers an endpoint (at most WEBHOOK_MAX_PER_USER). Refused (400): not https (unless
   * WEBHOOK_ALLOW_HTTP), credentials in the URL, or a host that resolves to a private, loopback,
   * link-local or metadata address (unless WEBHOOK_ALLOW_PRIVATE; checked again at every connection).
   * The secret is in this answer only.
   */
  @Post()
  @Auth()
  @RateLimit('webhook')
  @Audit(AuditEvent.WEBHOOK_CREATE)
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED (WEBHOOK_RATE_LIMIT), with Retry-After' })
  async create(
    @CurrentUser() user: Principal,
    @Body() dto: CreateWebhookDto,
    @ReqMeta() meta: RequestMeta,
  ): Promise<WebhookCreatedDto> {
    const e = await this.webhooks.create(actorOf(user), dto.url, dto.events, meta);
    return { ...toWebhookDto(e), secret: e.secret };
  }

  /** Your endpoints, newest first (their secrets are not shown again). */
  @Get()
  @Auth()
  async list(@CurrentUser() user: Principal): Promise<WebhookDto[]> {
    return (await this.webhooks.list(actorOf(user))).map(toWebhookDto);
  }

  /** Deletes an endpoint and its delivery log; nothing more is sent to it. */
  @Delete(':id')
  @Auth()
  @Audit(AuditEvent.WEBHOOK_DELETE)
  @ApiNotFoundResponse({ description: 'WEBHOOK_NOT_FOUND' })
  async remove(
    @CurrentUser() user: Principal,
    @IdParam() id: number,
    @ReqMeta() meta: RequestMeta,
  ): Promise<WebhookDeletedDto> {
    await this.webhooks.remove(actorOf(user), id, meta);
    return { message: 'Webhook deleted' };
  }

  /** A new secret (shown once); the previous one also signs for WEBHOOK_SECRET_OVERLAP_SECONDS. */
  @Post(':id/rotate-secret')
  @HttpCode(200)
  @Auth()
  @Audit(AuditEvent.WEBHOOK_ROTATE_SECRET)
  @ApiNotFoundResponse({ description: 'WEBHOOK_NOT_FOUND' })
  async rotate(
    @CurrentUser() user: Principal,
    @IdParam() id: number,
    @ReqMeta() meta: RequestMeta,
  ): Promise<WebhookSecretDto> {
    const e = await this.webhooks.rotate(actorOf(user), id, meta);
    return {
      id: e.id,
      secret: e.secret,
      previous_secret_valid_until: (e.previousSecretUntil ?? new Date()).toISOString(),
    };
  }

  /** The endpoint's deliveries, newest first; total in X-Total-Count. */
  @Get(':id/deliveries')
  @Auth()
  @ApiPaged(WebhookDeliveryDto)
  @ApiNotFoundResponse({ description: 'WEBHOOK_NOT_FOUND' })
  async deliveries(
    @CurrentUser() user: Principal,
    @IdParam() id: number,
    @Query() q: PageQueryDto,
  ): Promise<Paged<WebhookDeliveryDto>> {
    const { rows, total } = await this.webhooks.deliveries(actorOf(user), id, toPage(q));
    return new Paged(rows.map(toDeliveryDto), total);
  }

  /** One more attempt of a FAILED delivery, now (400 for one that is not FAILED). */
  @Post(':id/deliveries/:delivery_id/retry')
  @HttpCode(200)
  @Auth()
  @RateLimit('webhook')
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED (WEBHOOK_RATE_LIMIT), with Retry-After' })
  @ApiNotFoundResponse({ description: 'WEBHOOK_NOT_FOUND' })
  async retry(
    @CurrentUser() user: Principal,
    @IdParam() id: number,
    @IdParam('delivery_id') deliveryId: number,
  ): Promise<WebhookDeliveryDto> {
    return toDeliveryDto(await this.webhooks.retry(actorOf(user), id, deliveryId));
  }

  /** Sends a `ping` event to the endpoint now (whatever it subscribed to); see its deliveries for the outcome. */
  @Post(':id/test')
  @Auth()
  @RateLimit('webhook')
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED (WEBHOOK_RATE_LIMIT), with Retry-After' })
  @ApiNotFoundResponse({ description: 'WEBHOOK_NOT_FOUND' })
  async test(@CurrentUser() user: Principal, @IdParam() id: number): Promise<WebhookTestDto> {
    const d = await this.webhooks.test(actorOf(user), id);
    return { message: 'Test event queued', event_id: d.eventId };
  }
}
