export * from './contract-client.js';
export * from './query.js';
export type { AbortSignalLike, HttpRequest, HttpResponse, Transport } from './transport.js';
