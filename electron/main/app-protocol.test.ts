import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_URL, appFilePath, contentSecurityPolicy, contentTypeOf, isAppUrl } from './app-protocol.js';

const root = '/opt/gatehouse/out/renderer';

describe('app protocol', () => {
  it('maps console URLs to files of the built renderer, and client routes to index.html', () => {
    expect(appFilePath(root, APP_URL)).toBe(join(root, 'index.html'));
    expect(appFilePath(root, 'gatehouse://app/assets/index-abc.js')).toBe(join(root, 'assets/index-abc.js'));
    expect(appFilePath(root, 'gatehouse://app/agents/researcher')).toBe(join(root, 'index.html'));
    expect(appFilePath(root, 'gatehouse://app/agents/assets/index-abc.js')).toBe(join(root, 'assets/index-abc.js'));
  });

  it('never serves a file outside the renderer', () => {
    expect(appFilePath(root, 'gatehouse://app/..%2F..%2Fmain%2Findex.js')).toBeNull();
    // The URL parser resolves dot segments itself: this one stays inside the renderer.
    expect(appFilePath(root, 'gatehouse://app/%2e%2e/%2e%2e/etc/passwd.txt')).toBe(join(root, 'etc/passwd.txt'));
    expect(appFilePath(root, 'gatehouse://app/a%00.js')).toBeNull();
    expect(appFilePath(root, 'gatehouse://app/%E0%A4%A.js')).toBeNull();
    expect(appFilePath(root, 'gatehouse://other/index.html')).toBeNull();
    expect(appFilePath(root, 'file:///opt/gatehouse/out/renderer/index.html')).toBeNull();
  });

  it('recognises only the console as the app', () => {
    expect(isAppUrl(APP_URL)).toBe(true);
    expect(isAppUrl('gatehouse://app/agents')).toBe(true);
    expect(isAppUrl('gatehouse://evil/index.html')).toBe(false);
    expect(isAppUrl('https://app/index.html')).toBe(false);
    expect(isAppUrl('data:text/html,hi')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
    expect(isAppUrl('http://localhost:5173/agents', 'http://localhost:5173')).toBe(true);
    expect(isAppUrl('http://localhost:5174/', 'http://localhost:5173')).toBe(false);
    expect(isAppUrl(APP_URL, 'http://localhost:5173')).toBe(false);
  });

  it('allows no network access and only the app’s own scripts', () => {
    const policy = contentSecurityPolicy();
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain("connect-src 'none'");
    expect(policy).not.toContain('unsafe-eval');
    expect(contentSecurityPolicy('http://localhost:5173')).toContain("connect-src 'self' ws://localhost:5173");
  });

  it('names content types', () => {
    expect(contentTypeOf('/x/index.HTML')).toBe('text/html; charset=utf-8');
    expect(contentTypeOf('/x/a.js')).toBe('text/javascript; charset=utf-8');
    expect(contentTypeOf('/x/blob')).toBe('application/octet-stream');
  });
});
