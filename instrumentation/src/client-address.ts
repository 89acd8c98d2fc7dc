/*
 * The caller's address. X-Forwarded-For is written by whoever sends the request, so it is only
 * believed hop by hop through proxies the operator trusts (proxy-addr, as Express does); the peer
 * address of the connection is recorded as well.
 */
import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';
import type { TrustProxy } from './types.js';

export type TrustFunction = (address: string, hop: number) => boolean;

/** No proxy is trusted: the peer is the client, and X-Forwarded-For need not even be parsed. */
const TRUST_NONE: TrustFunction = () => false;

/** proxy-addr's trust function for the configuration (false/undefined: trust no proxy). */
export function compileTrust(trust: TrustProxy | undefined): TrustFunction {
  if (trust === undefined || trust === false) return TRUST_NONE;
  if (trust === true) return () => true;
  if (typeof trust === 'function') return trust;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  const list = typeof trust === 'string' ? trust.split(',').map((entry) => entry.trim()) : trust;
  return proxyAddr.compile(list);
}

/** "::ffff:10.0.0.1" (an IPv4 peer on a dual-stack socket) → "10.0.0.1". */
function plainAddress(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export function peerAddress(request: IncomingMessage): string | undefined {
  return plainAddress(request.socket.remoteAddress);
}

/**
 * The client's address: the peer's (`peer`, what peerAddress() gave for this request) unless
 * trusted proxies forwarded the call. The peer is passed in rather than read again: each read of
 * socket.remoteAddress costs ~500 instructions (a megamorphic lookup in net.Socket), on every request.
 */
export function clientAddress(
  request: IncomingMessage,
  trust: TrustFunction,
  peer: string | undefined,
): string | undefined {
  if (peer === undefined) return undefined;
  if (trust === TRUST_NONE) return peer;
  return plainAddress(proxyAddr(request, trust));
}
