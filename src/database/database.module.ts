import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { buildDataSourceOptions } from './data-source-options';
import { StatementRecorder } from './statement-recorder';
import { ReadReplica } from './read-replica';
import { TransactionRunner } from './transaction-runner';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...buildDataSourceOptions(config.db),
        ...(config.db.statementLog
          ? { logging: ['query' as const], logger: StatementRecorder.for(config.db.statementLog) }
          : {}),
        migrationsRun: config.db.migrationsRun,
        retryAttempts: config.nodeEnv === 'test' ? 1 : 5,
        retryDelay: 2000,
      }),
    }),
  ],
  providers: [TransactionRunner, ReadReplica],
  exports: [TransactionRunner, ReadReplica],
})
export class DatabaseModule {}
