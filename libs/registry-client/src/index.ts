export {
  compareVersions,
  RegistryView,
  type CatalogListener,
  type RegistryViewOptions,
  type ServedTool,
} from './registry-view.js';
