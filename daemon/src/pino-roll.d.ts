// pino-roll ships no types: what logging.ts uses of it.
declare module 'pino-roll' {
  import type { EventEmitter } from 'node:events';

  export interface PinoRollOptions {
    file: string;
    extension?: string;
    size?: string | number;
    frequency?: string | number;
    limit?: { count?: number; removeOtherLogFiles?: boolean };
    symlink?: boolean;
    mkdir?: boolean;
    mode?: number;
    sync?: boolean;
  }

  /** The sonic-boom stream pino-roll writes through, reopened on each rotation. */
  export interface RollingFile extends EventEmitter {
    readonly file: string;
    readonly fd: number;
    write(text: string): boolean;
    flushSync(): void;
    end(): void;
  }

  export default function roll(options: PinoRollOptions): Promise<RollingFile>;
}
