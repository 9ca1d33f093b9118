import type { FastifyInstance } from 'fastify';
import type { DaemonConfig } from '../config.js';

/** The port the app listens on, once it does (the configured port may be 0). */
export function listeningPort(app: FastifyInstance): number | undefined {
  const address = app.server.address();
  return address && typeof address === 'object' ? address.port : undefined;
}

/** The daemon's own base URL, as clients on this machine reach it. */
export function daemonUrl(app: FastifyInstance, config: DaemonConfig): string {
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `${config.tls ? 'https' : 'http'}://${host}:${listeningPort(app) ?? config.port}`;
}
