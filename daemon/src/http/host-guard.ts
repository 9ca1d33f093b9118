import type { IncomingHttpHeaders } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from './problems.js';

/** A loopback name or address, as a Host header spells it: localhost, 127.0.0.0/8, [::1]. */
const isLoopback = (name: string) => name === 'localhost' || name === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(name);

/**
 * The names a remote client may address the daemon by when it listens on `host` (with
 * --allow-remote): that host itself; for a wildcard (0.0.0.0, ::) the machine's name and every
 * address of its interfaces, since any of them reaches it.
 */
export function remoteNames(host: string): string[] {
  if (host !== '0.0.0.0' && host !== '::') return [host.includes(':') ? `[${host}]` : host];
  const addresses = Object.values(networkInterfaces())
    .flat()
    .filter((address) => address !== undefined)
    .map((address) => (address.family === 'IPv6' ? `[${address.address}]` : address.address));
  return [hostname(), ...addresses];
}

/**
 * DNS-rebinding and cross-site check (SPEC §7). A web page can make a browser send requests to
 * 127.0.0.1 under a hostile name, or from a hostile origin; the daemon answers only requests
 * addressed to itself (`Host` = a loopback name or address, or with --allow-remote a name of
 * this machine's, with our port) and, when a browser says where it comes from, only its own
 * origin or one an admin listed with --allow-origin (those get CORS headers, app.ts). Returns
 * why a request is refused, or null.
 */
export function addressCheck(options: {
  port: () => number;
  remoteNames?: string[];
  allowOrigins?: string[];
  scheme: 'http' | 'https';
}) {
  const remote = new Set(options.remoteNames?.map((name) => name.toLowerCase()));
  const listedOrigins = new Set(options.allowOrigins);

  // Every request asks about the same one or two Host values: remember the ones found ours.
  const knownOurs = new Set<string>();
  const isOurs = (host: string | undefined): boolean => {
    if (!host) return false;
    if (knownOurs.has(host)) return true;
    const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.toLowerCase());
    if (!match) return false;
    const [, name, port] = match;
    const ours =
      (isLoopback(name!) || remote.has(name!)) &&
      Number(port ?? (options.scheme === 'https' ? 443 : 80)) === options.port();
    if (ours && knownOurs.size < 16) knownOurs.add(host);
    return ours;
  };

  /**
   * `target` is the request line's: an absolute-form target (`GET http://host/path`) names the
   * host it is for, which a server must take over the Host header (RFC 9112 §3.2.2), so it is
   * held to the same rule. Two Host headers arrive joined (`joinDuplicateHeaders`), which is no name.
   */
  return (headers: IncomingHttpHeaders, target = '/'): AddressRefusal | null => {
    if (!isOurs(headers.host)) return 'host_not_allowed';
    if (!target.startsWith('/') && !isOurAbsoluteTarget(target)) return 'host_not_allowed';
    const origin = headers.origin;
    if (origin === undefined || listedOrigins.has(origin)) return null;
    try {
      const url = new URL(origin);
      if (url.protocol === `${options.scheme}:` && isOurs(url.host)) return null;
    } catch {
      // "null" and other opaque origins are never ours
    }
    return 'origin_not_allowed';
  };

  function isOurAbsoluteTarget(target: string): boolean {
    try {
      const url = new URL(target);
      return url.protocol === `${options.scheme}:` && isOurs(url.host || undefined);
    } catch {
      return false;
    }
  }
}

type AddressRefusal = 'host_not_allowed' | 'origin_not_allowed';
const REFUSALS: Record<AddressRefusal, string> = {
  host_not_allowed: 'The Host header does not name this daemon.',
  origin_not_allowed: 'Cross-origin requests are not accepted.',
};

/** The address check as the first hook of every request: a refusal is answered as a problem. */
export function hostGuard(check: ReturnType<typeof addressCheck>) {
  return (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    const refusal = check(request.headers, request.url);
    if (refusal) sendProblem(reply, refusal, REFUSALS[refusal]);
    else done();
  };
}
