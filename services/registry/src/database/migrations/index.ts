import { CreateRegistry1764028800000 } from './1764028800000-create-registry.js';

export const registryMigrations = [CreateRegistry1764028800000];
