import { Foundation1795398000000 } from './0001-foundation.js';

/** Every migration, in order. New ones are appended here, never reordered. */
export const migrations = [Foundation1795398000000];
