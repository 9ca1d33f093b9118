import { extname, join, normalize, sep } from 'node:path';

/**
 * The console is served from a custom `gatehouse://app/` protocol rather than `file://`, so the
 * page has a real origin, can only ever reach the files of the built renderer, and every
 * response carries the Content-Security-Policy below.
 */
export const APP_SCHEME = 'gatehouse';
export const APP_HOST = 'app';
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/**
 * The renderer runs only its own scripts and talks to nothing over the network: every call goes
 * through the preload bridge. Inline styles are allowed for the components that set them.
 * The Vite dev server (development only) also needs its inline preamble and HMR socket.
 */
export function contentSecurityPolicy(devServerUrl?: string): string {
  const dev = devServerUrl ? new URL(devServerUrl) : undefined;
  return [
    "default-src 'none'",
    dev ? `script-src 'self' 'unsafe-inline'` : "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    dev ? `connect-src 'self' ws://${dev.host}` : "connect-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Whether `url` is the console itself: the app protocol, or the dev server's origin in development. */
export function isAppUrl(url: string, devServerUrl?: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (devServerUrl) return parsed.origin === new URL(devServerUrl).origin;
  return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST;
}

/**
 * The file of the built renderer a `gatehouse://app/…` request names, or null for anything
 * outside it. Paths without an extension are client-side routes and get `index.html`. The built
 * page refers to its assets relatively (electron-vite forces `base: './'`), so after a reload on
 * a client route they are asked for below it (`/agents/x/assets/…`): Vite emits every one of
 * them under `assets/`, so that suffix names the file.
 */
export function appFilePath(root: string, url: string): string | null {
  if (!isAppUrl(url)) return null;
  const { pathname } = new URL(url);
  let path: string;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  const assets = path.lastIndexOf('/assets/');
  const file = normalize(join(root, !extname(path) ? 'index.html' : assets > 0 ? path.slice(assets) : path));
  return file.startsWith(normalize(root) + sep) ? file : null;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export const contentTypeOf = (file: string): string =>
  CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
