import { planOffline } from '../offline/offline-planner.js';
import type { ModelProvider, ProviderCall, ProviderResult } from './model-provider.js';

/** The deterministic offline planner as a provider: embedded mode and demos, no model behind it. */
export class OfflineProvider implements ModelProvider {
  readonly name = 'offline';

  async complete(call: ProviderCall): Promise<ProviderResult> {
    const planned = planOffline(call.request);
    return { ...planned, model: 'offline-planner' };
  }
}
