// Imported first by main.ts: tracing must be running before anything else loads.
import { startTelemetry } from '@toolbus/observability';

startTelemetry({ serviceName: 'orchestrator' });
