import { describe, expect, it } from 'vitest';
import { parseEventStream, type ServerSentEvent } from './sse.js';

async function parse(chunks: string[]): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  async function* source() {
    yield* chunks;
  }
  for await (const event of parseEventStream(source())) events.push(event);
  return events;
}

describe('parseEventStream', () => {
  it('reads the daemon’s events, skipping comments and heartbeats', async () => {
    const stream =
      'retry: 2000\n: connected\n\nid: 7\nevent: agent\ndata: {"a":1}\n\n: ping\n\nid: 8\nevent: key\ndata: {"b":2}\n\n';
    expect(await parse([stream])).toEqual([
      { event: 'agent', id: '7', data: '{"a":1}' },
      { event: 'key', id: '8', data: '{"b":2}' },
    ]);
  });

  it('handles lines split across chunks, CRLF and CR line ends, multi-line data and no space after the colon', async () => {
    const events = await parse(['id: 1\r', '\nda', 'ta:one\r\ndata: two\r', '\r\nevent: x\rdata: y\r\r']);
    expect(events).toEqual([
      { event: 'message', id: '1', data: 'one\ntwo' },
      { event: 'x', id: '1', data: 'y' },
    ]);
  });

  it('dispatches nothing for an event without data, or one the stream never finished', async () => {
    expect(await parse(['event: empty\n\n', 'data: unfinished\n'])).toEqual([]);
  });
});
