import type { ViteUserConfig } from 'vitest/config';
import { projectConfig } from '../../tools/vitest/config.ts';

// The integration tier's setup (one file at a time, long timeouts), for the benchmark: its
// table goes straight to the terminal and to reports/bench, not into the test reports.
const integration = projectConfig(import.meta.dirname, 'integration') as ViteUserConfig;

const bench: ViteUserConfig = {
  ...integration,
  test: {
    ...integration.test,
    include: ['bench/**/*.bench.ts'],
    reporters: ['default'],
    outputFile: {},
    disableConsoleIntercept: true,
  },
};

export default bench;
