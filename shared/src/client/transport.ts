/**
 * The slice of the Fetch API the client uses, typed here because shared/ compiles without the DOM
 * or Node libraries. The global `fetch` of Node ≥ 20 and of Chromium satisfies it as it is.
 */
export interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** The browser console sends its HttpOnly session cookie with same-origin calls. */
  credentials?: 'same-origin';
}

export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
}

export interface ByteReader {
  read(): Promise<{ done: true; value?: Uint8Array | undefined } | { done: false; value: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
}

export interface HttpResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  readonly body: { getReader(): ByteReader } | null;
  text(): Promise<string>;
}

export interface Transport {
  // A method signature, so the platform's `fetch` (whose RequestInit is wider) fits it.
  fetch(url: string, init: HttpRequest): Promise<HttpResponse>;
}

/**
 * Standard in every runtime the client runs in (Node ≥ 20, Chromium); declared here, module-local,
 * because shared/ compiles against ES2023 alone.
 */
declare const TextDecoder: new () => { decode(input: Uint8Array, options?: { stream?: boolean }): string };
declare function setTimeout(callback: () => void, ms: number): unknown;

export const newDecoder = () => new TextDecoder();
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
