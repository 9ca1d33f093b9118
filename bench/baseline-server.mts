/*
 * The baseline: a plain node:http server answering every request with a fixed JSON body, the
 * practical limit for a Node daemon on this machine. The runner sets the body to one of the
 * daemon's own answers (`PUT /__body {body}`), so both servers send the same number of bytes.
 * Prints `{"port": n}` on stdout once it listens.
 */
import { createServer, type IncomingMessage } from 'node:http';

let body: Buffer = Buffer.from('{"ok":true}');

const readBody = async (request: IncomingMessage): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

const server = createServer(async (request, response) => {
  const received = await readBody(request);
  if (request.url === '/__body' && request.method === 'PUT') {
    body = Buffer.from((JSON.parse(received.toString()) as { body: string }).body);
    response.writeHead(204).end();
    return;
  }
  // A POST's JSON body is parsed, as any JSON API would (B3 is a POST).
  if (received.length > 0) JSON.parse(received.toString());
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  response.end(body);
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
