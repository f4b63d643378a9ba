import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { buildDataSourceOptions } from './data-source-options';
import { StatementRecorder } from './statement-recorder';
import { ClusterMonitor, pickStartNode } from './cluster-monitor';
import { ReadReplica } from './read-replica';
import { TransactionRunner } from './transaction-runner';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      // with DB_CLUSTER_URLS: start on the first healthy node (ClusterMonitor moves the writes later)
      useFactory: async (config: AppConfig) => ({
        ...buildDataSourceOptions(
          config.db.cluster.length === 0 ? config.db : { ...config.db, ...(await pickStartNode(config.db)) },
        ),
        ...(config.db.statementLog
          ? { logging: ['query' as const], logger: StatementRecorder.for(config.db.statementLog) }
          : {}),
        migrationsRun: config.db.migrationsRun,
        retryAttempts: config.nodeEnv === 'test' ? 1 : 5,
        retryDelay: 2000,
      }),
    }),
  ],
  providers: [TransactionRunner, ReadReplica, ClusterMonitor],
  exports: [TransactionRunner, ReadReplica, ClusterMonitor],
})
export class DatabaseModule {}
