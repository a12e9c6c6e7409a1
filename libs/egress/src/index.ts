export { addressClass, inCidr, parseCidr, type AddressClass, type Cidr } from './address-class.js';
export {
  egressAgent,
  egressConnector,
  egressFetch,
  egressRefusal,
  egressRefusalOf,
  EgressRefusedError,
  type EgressFetch,
  type EgressGuardOptions,
  type LookupAll,
  type ResolvedAddress,
} from './egress-agent.js';
export { egressConfig, type EgressConfig } from './egress-config.js';
