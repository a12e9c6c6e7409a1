import { projectConfig } from '../../tools/vitest/config.ts';

export default projectConfig(import.meta.dirname, 'integration');
