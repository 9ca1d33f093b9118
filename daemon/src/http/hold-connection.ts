import type { FastifyReply } from 'fastify';

/**
 * Once the answer is written, the connection's next request is not read for `ms`
 * (`ProblemExtras.holdConnectionMs`): a client past the failed-auth limit is slowed without the
 * daemon holding its request (and all it allocated) for that time.
 */
export function holdConnection(reply: FastifyReply, ms: number) {
  const { socket } = reply.raw;
  if (!socket) return;
  reply.raw.once('finish', () => {
    socket.pause();
    setTimeout(() => socket.resume(), ms).unref();
  });
}
