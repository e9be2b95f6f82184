/**
 * Outbound fetches of URLs the gateway did not configure itself, behind one import path: the
 * guarded fetcher and the pieces tests and callers need to name (policy, resolver, problems).
 */

export {
  type AddressCategory,
  classifyAddress,
  isAllowedAddress,
  isLocalhostName,
  literalAddress,
  PRIVATE_CATEGORIES,
} from './address.js';
export { type OutboundBody, readAll } from './body.js';
export { type ResolvedAddress, type Resolver, systemResolver } from './gate.js';
export { GuardedFetcher, type GuardedFetcherOptions, type OpenOptions } from './guarded-fetcher.js';
export { OUTBOUND_REASONS, type OutboundProblem, type OutboundReason } from './problems.js';
export { SAMPLE_ORIGIN, withSampleImages } from './samples.js';
export { type SniffedImageType, sniffImageType } from './sniff.js';
