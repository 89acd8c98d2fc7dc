/*
 * Semantic-convention attribute names that are not stable yet (development status), copied here
 * as the opentelemetry-js-contrib instrumentations do, so that a rename in the incubating entry
 * point of @opentelemetry/semantic-conventions cannot silently change what we emit or read.
 * Stable names are imported from '@opentelemetry/semantic-conventions' directly.
 */

/** Unique identifier of the user (development). */
export const ATTR_USER_ID = 'user.id' as const;
/** Short name or login of the user (development). */
export const ATTR_USER_NAME = 'user.name' as const;
/** Unique identifier of an end user of the service (development, no longer deprecated). */
export const ATTR_ENDUSER_ID = 'enduser.id' as const;
/** Cloud region the service runs in (development, usually a resource attribute). */
export const ATTR_CLOUD_REGION = 'cloud.region' as const;
/** Cloud account id the service runs in (development, usually a resource attribute). */
export const ATTR_CLOUD_ACCOUNT_ID = 'cloud.account.id' as const;
/** TLS protocol version, e.g. "1.3" (development). */
export const ATTR_TLS_PROTOCOL_VERSION = 'tls.protocol.version' as const;
/** TLS cipher suite, e.g. "TLS_AES_128_GCM_SHA256" (development). */
export const ATTR_TLS_CIPHER = 'tls.cipher' as const;
/** Deprecated but still emitted by many RPC instrumentations: the RPC service name. */
export const ATTR_RPC_SERVICE = 'rpc.service' as const;
/** Deprecated name of rpc.system.name, still emitted by older RPC instrumentations. */
export const ATTR_RPC_SYSTEM = 'rpc.system' as const;

/*
 * Pre-1.20 HTTP attribute names. @opentelemetry/instrumentation-http still emits these unless
 * OTEL_SEMCONV_STABILITY_OPT_IN=http is set, so the collector reads them as a fallback.
 */
export const ATTR_HTTP_METHOD_OLD = 'http.method' as const;
export const ATTR_HTTP_STATUS_CODE_OLD = 'http.status_code' as const;
export const ATTR_HTTP_USER_AGENT_OLD = 'http.user_agent' as const;
export const ATTR_HTTP_CLIENT_IP_OLD = 'http.client_ip' as const;
export const ATTR_NET_PEER_IP_OLD = 'net.peer.ip' as const;
export const ATTR_HTTP_TARGET_OLD = 'http.target' as const;
