/*
 * The proxy floor: a plain node:http server forwarding every request to the upstream named on its
 * command line through undici (the broker's client), streaming the answer back, with no
 * authentication, grant, limit or audit. What any Node proxy reaches on this machine: B10 compares
 * the broker with it as well as with the upstream called directly.
 * Prints `{"port": n}` on stdout once it listens.
 */
import { createServer } from 'node:http';
import type { Readable } from 'node:stream';
import { Agent, request as upstreamRequest } from 'undici';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: proxy-floor-server.mts <upstream base URL>');
const dispatcher = new Agent({ connections: 256 });
const HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

const server = createServer(async (request, response) => {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(request.headers))
    if (value !== undefined && !HOP.has(name)) headers[name] = value;
  try {
    const answer = await upstreamRequest(`${upstream}${request.url}`, {
      dispatcher,
      method: request.method as 'GET',
      headers,
      body: request.method === 'GET' || request.method === 'HEAD' ? null : request,
    });
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers))
      if (value !== undefined && !HOP.has(name)) out[name] = value;
    response.writeHead(answer.statusCode, out);
    (answer.body as Readable).pipe(response);
  } catch {
    response.writeHead(502).end();
  }
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
