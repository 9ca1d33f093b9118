/** One Server-Sent Event: `event` defaults to `message`, `data` joins its data lines with `\n`. */
export interface ServerSentEvent {
  event: string;
  id: string | null;
  data: string;
}

/**
 * Parses a text/event-stream (the WHATWG rules the CLI needs): lines end with LF, CRLF or CR;
 * `:` starts a comment (the daemon's heartbeats); one space after a field's colon is dropped;
 * a blank line dispatches the event, unless it has no data.
 */
export async function* parseEventStream(chunks: AsyncIterable<string>): AsyncGenerator<ServerSentEvent> {
  let buffer = '';
  let event = '';
  let id: string | null = null;
  let data: string[] = [];
  /** Takes one line; returns the event a blank line completes. */
  const take = (line: string): ServerSentEvent | null => {
    if (line === '') {
      const complete = data.length > 0 ? { event: event || 'message', id, data: data.join('\n') } : null;
      event = '';
      data = [];
      return complete;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) id = value;
    return null;
  };
  for await (const chunk of chunks) {
    buffer += chunk;
    // A trailing CR may be the first half of a CRLF split across chunks: keep it for the next one.
    const lines = buffer.split(/\r\n|\r(?!$)|\n/);
    buffer = lines.pop()!;
    for (const line of lines) {
      const complete = take(line);
      if (complete) yield complete;
    }
  }
  // The stream ended: a CR kept back was a line end after all.
  if (buffer.endsWith('\r')) {
    const complete = take(buffer.slice(0, -1));
    if (complete) yield complete;
  }
}
