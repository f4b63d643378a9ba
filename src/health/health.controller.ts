import { Controller, Get, Inject } from '@nestjs/common';
import { ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppError } from '../common/errors/app-error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { Public } from '../auth/auth.decorators';

export class HealthDto {
  /** "ok" */
  status!: string;
  /** "up" */
  db!: string;
  version!: string;
}

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Liveness and database reachability. */
  @Get()
  @Public()
  @ApiServiceUnavailableResponse({ description: 'The database does not answer (code DB_DOWN).' })
  async health(): Promise<HealthDto> {
    try {
      await Promise.race([
        this.dataSource.query('SELECT 1'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('db ping timeout')), 2000).unref()),
      ]);
    } catch {
      throw new AppError(503, 'DB_DOWN', 'The database is not reachable.');
    }
    return { status: 'ok', db: 'up', version: this.config.version };
  }
}
