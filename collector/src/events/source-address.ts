/*
 * Where a call came from. Addresses are stored in one form, whatever the sender wrote, so that a
 * lookup by sourceIPAddress finds them: an IPv4 client of a dual-stack socket is reported by Node
 * as "::ffff:127.0.0.1", and `sourceIPAddress=127.0.0.1` must find it (ipaddr.js, as proxy-addr
 * uses, for the parsing).
 *
 * For events derived from plain OpenTelemetry server spans, the client address is not believed
 * blindly: @opentelemetry/instrumentation-http fills client.address (http.client_ip in the old
 * conventions) from the first X-Forwarded-For or Forwarded entry, which the caller writes. The
 * connection's peer address is the source unless that peer is a proxy the operator trusts
 * (MappingOptions.trustedProxies), as the instrumentation's own trustProxy does for its spans.
 */
import ipaddr from 'ipaddr.js';

/**
 * The address in its canonical form: IPv4-mapped IPv6 as IPv4, IPv6 compressed in lower case.
 * IPv4 is kept as written (no ':' to normalise), and anything that is not an address (a host
 * name, "unknown") as it is.
 */
export function normalizeAddress(address: string | undefined): string | undefined {
  // Most addresses are IPv4: no parsing for them on the ingest path.
  if (address === undefined || !address.includes(':') || !ipaddr.IPv6.isValid(address)) return address;
  return ipaddr.process(address).toString();
}

/** proxy-addr's names for address ranges, accepted in trustedProxies as in the instrumentation. */
const NAMED_RANGES: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

function rangeOf(entry: string): Range {
  if (ipaddr.isValidCIDR(entry)) return ipaddr.parseCIDR(entry);
  if (ipaddr.isValid(entry)) {
    const address = ipaddr.parse(entry);
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  }
  throw new Error(
    `not an IP address, CIDR range or range name (loopback, linklocal, uniquelocal): "${entry}"`,
  );
}

export type TrustCheck = (peerAddress: string) => boolean;

/** Compiles trusted proxies: addresses, CIDR ranges and the names above. Throws on a bad entry. */
export function compileTrustedProxies(entries: readonly string[]): TrustCheck {
  const ranges = entries.flatMap((entry) => (NAMED_RANGES[entry.trim()] ?? [entry.trim()]).map(rangeOf));
  if (ranges.length === 0) return () => false;
  return (peerAddress) => {
    if (!ipaddr.isValid(peerAddress)) return false;
    const address = ipaddr.process(peerAddress);
    return ranges.some(
      ([network, bits]) => network.kind() === address.kind() && address.match(network, bits),
    );
  };
}

/**
 * Compiled trust checks by their configuration: mapping options are built per export (and may be
 * copied to an ingest thread), so the same list arrives again and again as a new array.
 */
const compiled = new Map<string, TrustCheck>();
const MAX_COMPILED = 16;

function trustCheckFor(trustedProxies: readonly string[] | undefined): TrustCheck | undefined {
  if (trustedProxies === undefined || trustedProxies.length === 0) return undefined;
  const key = trustedProxies.join(',');
  let check = compiled.get(key);
  if (check === undefined) {
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    try {
      check = compileTrustedProxies(trustedProxies);
    } catch {
      // Validated where the option is read (compileTrustedProxies throws there); a bad list that
      // got this far trusts no proxy rather than failing every span.
      check = () => false;
    }
    compiled.set(key, check);
  }
  return check;
}

/**
 * The sourceIPAddress of a derived event: the peer, unless the peer is a trusted proxy (then the
 * client address it forwarded), or there is no peer address to check the client address against.
 */
export function derivedSourceAddress(
  clientAddress: string | undefined,
  peerAddress: string | undefined,
  trustedProxies: readonly string[] | undefined,
): string | undefined {
  if (peerAddress === undefined || clientAddress === undefined) return clientAddress ?? peerAddress;
  const trusted = trustCheckFor(trustedProxies);
  return trusted !== undefined && trusted(peerAddress) ? clientAddress : peerAddress;
}
