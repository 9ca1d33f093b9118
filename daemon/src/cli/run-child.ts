import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { CliError } from './errors.js';

const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs a program with `env` and resolves with the exit code `gatehouse run` should end with:
 * the program's own, or 128 + the signal number when a signal ended it (as shells report it).
 * Signals sent to gatehouse are passed on, so supervisors can stop the program through it.
 */
export function runChild(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [file, ...args] = argv;
  if (!file) throw new CliError('name the program to run after --.');
  const child = spawn(file, args, { stdio: 'inherit', env });
  const forwarders = FORWARDED.map((signal) => {
    const forward = () => {
      // Ctrl-C on a terminal already reached the program (the terminal signals the whole
      // foreground process group); a second SIGINT would make many programs quit mid-cleanup.
      if (signal === 'SIGINT' && process.stdin.isTTY) return;
      child.kill(signal);
    };
    process.on(signal, forward);
    return () => process.off(signal, forward);
  });
  return new Promise((resolve, reject) => {
    const done = () => forwarders.forEach((remove) => remove());
    child.once('error', (error: NodeJS.ErrnoException) => {
      done();
      // 127 and 126 as shells and env(1) report a program that is missing or cannot be run.
      reject(new CliError(`cannot run ${file}: ${error.message}`, error.code === 'ENOENT' ? 127 : 126));
    });
    child.once('exit', (code, signal) => {
      done();
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}
