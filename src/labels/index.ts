/**
 * labels/: container labels → route claims, pure. Also the value grammar the routes file and
 * GATEHOUSE_DEFAULT_ALLOW reuse.
 */
export { translateContainers, type TranslateOptions } from './translate.ts';
export { deployerLabels, ignoredImageLabels, type IgnoredLabel } from './image-labels.ts';
export { forbiddenClaimReason } from './claims.ts';
export { closestKey, DEFAULT_ROUTE } from './keys.ts';
export { KEYS, VALUE_KEYS, FIELD_KEYS, keyDef, parseValue, type ValueKey, type RouteSettings, type ParseContext, type KeyFields } from './key-table.ts';
export { isSecretValue } from './values.ts';
export { parsePolicyList, parsePolicyEntry, POLICY_GRAMMAR, PROVIDER_NAME } from './policy-entries.ts';
export { parseNetworkText, compileNetwork, networkContains, clientAddressBytes, cidrContains } from './networks.ts';
export { parseBypassList, parsePathPrefix, canonicalPath } from './paths.ts';
export { parseFrom, parseTarget, parseOriginList, type FromValue } from './urls.ts';
export { parseHeaderName, parseHeaderValue, foldHeaderName } from './headers.ts';
export { buildRouteSpec, keyFields, type RouteParts, DEFAULT_TIMEOUT_MS } from './route-spec.ts';
export type { Parsed } from './parsed.ts';
export { claimedAddresses, containerClaims, type ClaimedAddress, type ClaimReading } from './claimed.ts';
export { replicaGroup } from './upstream.ts';
export { createUnitReader, ownerOf, type UnitReader } from './owner.ts';
export {
  forbiddenTargetReason,
  targetAddressReason,
  targetBytesReason,
  parseCidr,
  NO_TARGET_RULES,
  type TargetRules,
  type OwnEndpoint,
  type Cidr,
  type AddressBytes,
} from './targets.ts';
