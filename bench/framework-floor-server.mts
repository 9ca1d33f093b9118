/*
 * The framework floor: bare Fastify (no hooks, no request log, no authentication, no database)
 * answering every request with one of the daemon's answers, serialised the daemon's way (its
 * serializer compiler, the route's response schema). Baseline → floor is what Fastify itself
 * costs on this machine; floor → daemon is what Gatehouse adds. `PUT /__body {body, schema}`
 * sets the answer. Prints `{"port": n}` on stdout once it listens.
 */
import Fastify from 'fastify';
import { serializerCompiler } from '../daemon/src/http/serializers.js';

let answer: unknown = { ok: true };
let serialize: (value: unknown) => string = JSON.stringify;

const app = Fastify({ bodyLimit: 1024 * 1024 });
app.put('/__body', async (request, reply) => {
  const { body, schema } = request.body as { body: string; schema: Record<string, unknown> };
  answer = JSON.parse(body);
  serialize = serializerCompiler({ schema, method: 'GET', url: '/', httpStatus: '200' });
  return reply.status(204).send();
});
// Any other request, GET or a JSON POST (parsed, as the daemon parses it), gets the answer.
app.route({
  method: ['GET', 'POST'],
  url: '/*',
  handler: async (_request, reply) => reply.type('application/json; charset=utf-8').send(serialize(answer)),
});

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
process.on('SIGTERM', () => process.exit(0));
