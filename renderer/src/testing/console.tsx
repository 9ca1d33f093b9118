import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createMemoryHistory, RouterProvider } from '@tanstack/react-router';
import { configure, render } from '@testing-library/react';
import { vi } from 'vitest';
import type { BridgeResult, GatehouseBridge, ShellInfo, User } from '@gatehouse/shared';
import { createConsoleRouter } from '../app/router.js';

// Two cores shared by many test runs: a screen waiting on a debounce and a query may need more than 1 s.
configure({ asyncUtilTimeout: 5_000 });

/** The only fake: the `window.gatehouse` boundary, answering per route. */
export function fakeBridge(
  answers: Record<string, (request: any) => BridgeResult<unknown>>,
  shellInfo: Partial<ShellInfo> = {},
) {
  const api = vi.fn(async (route: string, request: unknown) => {
    const answer = answers[route];
    if (!answer) throw new Error(`no answer for ${route}`);
    return answer(request);
  });
  const info: ShellInfo = {
    shell: 'browser',
    daemon_url: 'http://127.0.0.1:7420',
    app_version: '0.1.0',
    can_restart_daemon: false,
    ...shellInfo,
  };
  const bridge = {
    api,
    session: { state: vi.fn(), setup: vi.fn(), login: vi.fn(), logout: vi.fn() },
    events: vi.fn(() => () => undefined),
    shell: vi.fn(async () => ({ ok: true as const, data: info })),
    restartDaemon: vi.fn(async (): Promise<BridgeResult<ShellInfo>> => ({ ok: true, data: info })),
  };
  window.gatehouse = bridge as unknown as GatehouseBridge;
  return bridge;
}

/** The daemon's problems, as the shared builder makes them. */
export { problem } from '@gatehouse/shared';

export const agent = (name: string) => ({
  id: `id-${name}`,
  name,
  description: null,
  status: 'active',
  provider: 'Anthropic',
  scopes: [],
  allowed_tools: [],
  permissions_version: 1,
  last_auth_at: null,
  created_at: '2026-11-23T06:00:00.000Z',
});

export const project = (slug: string) => ({ id: `p-${slug}`, slug, name: slug });

export const signedIn = (role: User['role'] = 'admin') =>
  ({ id: 'u1', username: 'admin', role, kind: 'human', mfa_enabled: false }) as unknown as User;

/**
 * The whole console (router, session, project) at `path`, signed in: screens are tested where
 * they live, with the project, filters and offset read from the URL as in the app.
 */
export function renderConsole(
  path: string,
  bridge: ReturnType<typeof fakeBridge>,
  options: { user?: User; projects?: ReturnType<typeof project>[] } = {},
) {
  bridge.session.state.mockResolvedValue({ ok: true, data: { status: 'signed_in', user: options.user ?? signedIn() } });
  const projects = options.projects ?? [project('default')];
  const answer = bridge.api.getMockImplementation()!;
  bridge.api.mockImplementation(async (route, request) =>
    route === 'listProjects' ? { ok: true, data: projects } : answer(route, request),
  );
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const router = createConsoleRouter(createMemoryHistory({ initialEntries: [path] }));
  const view = render(
    <QueryClientProvider client={client}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  return { ...view, router, client };
}
