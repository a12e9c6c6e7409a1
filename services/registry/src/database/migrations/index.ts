import { CreateRegistry1764028800000 } from './1764028800000-create-registry.js';
import { SourceOwner1767225600000 } from './1767225600000-source-owner.js';

export const registryMigrations = [CreateRegistry1764028800000, SourceOwner1767225600000];
