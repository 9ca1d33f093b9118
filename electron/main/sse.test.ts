import { describe, expect, it } from 'vitest';
import { SseParser } from './sse.js';

describe('SseParser', () => {
  it('assembles messages split across chunks, skipping comments and retry lines', () => {
    const parser = new SseParser();
    expect(parser.push('retry: 2000\n: connected\n\nid: 7\nevent: ag')).toEqual([]);
    expect(parser.push('ent\ndata: {"a":')).toEqual([]);
    expect(parser.push('1}\n\n: ping\n\n')).toEqual([{ event: 'agent', data: '{"a":1}', id: '7' }]);
  });

  it('joins multi-line data, accepts CRLF, and defaults the event name', () => {
    const parser = new SseParser();
    expect(parser.push('data: one\r\ndata:two\r\n\r\nid: 9\ndata: x\n\n')).toEqual([
      { event: 'message', data: 'one\ntwo', id: undefined },
      { event: 'message', data: 'x', id: '9' },
    ]);
  });
});
