/**
 * Headers on every answer of the daemon's, those Fastify sends and those the broker writes to the
 * socket itself; API answers also say `Cache-Control: no-store`.
 */
export const EVERY_ANSWER_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' } as const;
