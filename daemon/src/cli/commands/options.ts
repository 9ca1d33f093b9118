import { InvalidArgumentError } from 'commander';

/** Parses an integer option within bounds; commander reports a bad one as a usage error. */
export const integer =
  (min: number, max: number) =>
  (value: string): number => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < min || number > max)
      throw new InvalidArgumentError(`use a whole number from ${min} to ${max}.`);
    return number;
  };

/** A comma-separated list (`a,b,c`); spaces around items are dropped. */
export const list = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

export const JSON_HELP = "print the contract's JSON instead of a table";
