export { createDataSource, databaseCheck, openDatabase, type DatabaseOptions } from './database.js';
export { likeContains, likePrefix, rowsOf } from './sql.js';
export { DataSource, type EntityManager, type MigrationInterface, type QueryRunner } from 'typeorm';
