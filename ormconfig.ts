import { DataSource } from 'typeorm';
import { loadConfigFromProcess } from './src/config/app-config';
import { buildDataSourceOptions } from './src/database/data-source-options';

/** TypeORM CLI data source: `npx typeorm -d dist/ormconfig.js migration:show` (DB_TYPE picks the dialect). */
export default new DataSource(buildDataSourceOptions(loadConfigFromProcess().db));
