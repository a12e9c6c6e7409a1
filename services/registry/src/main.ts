import './tracing.js';
import { runMain } from '@toolbus/service-kit';
import { startRegistry } from './registry.js';

runMain('registry', async () => {
  if (!(await startRegistry())) process.exit(0);
});
