import { createInterface } from 'node:readline';
import { CliError } from './errors.js';

let stdinLines: AsyncIterator<string> | undefined;

/**
 * Asks for one line. On a terminal: the question goes to stderr and, when `hidden`, nothing
 * typed is echoed. Otherwise, or with `stdin` (`--password-stdin`), the answer is the next line
 * of stdin, so scripts can pipe answers in (`printf '%s\n' "$PASSWORD" "$CODE" | gatehouse login -u admin`).
 */
export async function ask(question: string, { hidden = false, stdin = false } = {}): Promise<string> {
  if (stdin || !process.stdin.isTTY) {
    stdinLines ??= createInterface({ input: process.stdin, crlfDelay: Infinity })[Symbol.asyncIterator]();
    const next = await stdinLines.next();
    if (next.done) throw new CliError(`${question.replace(/:\s*$/, '')} needed: stdin ended without it.`);
    return answerOf(next.value, hidden);
  }
  process.stderr.write(question);
  return readTerminalLine(hidden);
}

/** Names and codes lose stray spaces; a password is exactly what was typed, spaces included. */
const answerOf = (line: string, hidden: boolean) => (hidden ? line : line.trim());

/** Reads a line from the terminal in raw mode, so a hidden answer is never echoed. */
function readTerminalLine(hidden: boolean): Promise<string> {
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  let answer = '';
  return new Promise((resolve, reject) => {
    const finish = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(answerOf(answer, hidden));
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return finish();
        if (char === '\u0003') return finish(new CliError('cancelled.'));
        if (char === '\u0004' && answer === '') return finish(new CliError('cancelled.'));
        if (char === '\u007f' || char === '\b') {
          if (answer && !hidden) process.stderr.write('\b \b');
          answer = [...answer].slice(0, -1).join('');
        } else if (char >= ' ') {
          answer += char;
          if (!hidden) process.stderr.write(char);
        }
      }
    };
    stdin.on('data', onData);
  });
}
