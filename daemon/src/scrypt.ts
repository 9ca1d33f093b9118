import { scrypt as scryptCallback } from 'node:crypto';
import { promisify } from 'node:util';

export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

const scryptAsync = promisify(scryptCallback) as (
  secret: string,
  salt: Buffer,
  keylen: number,
  options: ScryptCost & { maxmem: number },
) => Promise<Buffer>;

/** scrypt off the main thread, with just enough `maxmem` for the cost (128·N·r bytes, doubled). */
export const scrypt = (secret: string, salt: Buffer, keylen: number, cost: ScryptCost): Promise<Buffer> =>
  scryptAsync(secret, salt, keylen, { ...cost, maxmem: 256 * cost.N * cost.r });
