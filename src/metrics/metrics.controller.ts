import { Controller, Get, Header, Headers } from '@nestjs/common';
import {
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiProduces,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators';
import { NotFoundError, UnauthorizedError } from '../common/errors/app-error';
import { registry } from './metrics';
import { MetricsService } from './metrics.service';

@ApiTags('operations')
@Controller()
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  /**
   * Prometheus metrics (text format 0.0.4) for holders of METRICS_TOKEN as Bearer: the process
   * (CPU, memory, event loop), HTTP requests and latency by method, route template and status
   * class, the database pool, and business counters and gauges. Without METRICS_TOKEN configured
   * nobody holds it: use METRICS_PORT (127.0.0.1) instead.
   */
  @Get('metrics')
  @Public()
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'The metrics', content: { 'text/plain': { schema: { type: 'string' } } } })
  @ApiUnauthorizedResponse({ description: 'METRICS_TOKEN_REQUIRED' })
  @ApiNotFoundResponse({ description: 'METRICS_DISABLED: METRICS_ENABLED=false' })
  @Header('cache-control', 'no-store')
  @Header('content-type', registry.contentType)
  async metricsText(@Headers('authorization') authorization?: string): Promise<string> {
    if (!this.metrics.enabled) {
      throw new NotFoundError('Metrics are turned off here (METRICS_ENABLED=false).', 'METRICS_DISABLED');
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!this.metrics.authorized(bearer)) {
      throw new UnauthorizedError('Send METRICS_TOKEN as a Bearer token.', 'METRICS_TOKEN_REQUIRED');
    }
    return this.metrics.render();
  }
}
