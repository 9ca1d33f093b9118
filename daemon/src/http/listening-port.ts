import type { FastifyInstance } from 'fastify';

/** The port the app listens on, once it does (the configured port may be 0). */
export function listeningPort(app: FastifyInstance): number | undefined {
  const address = app.server.address();
  return address && typeof address === 'object' ? address.port : undefined;
}
