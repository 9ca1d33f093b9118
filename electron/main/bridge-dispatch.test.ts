import { describe, expect, it, vi } from 'vitest';
import { bridgeChannels, type BridgeResult } from '@gatehouse/shared';
import { bridgeDispatch, routeInput, type BridgeHandlers, type Sender } from './bridge-dispatch.js';

const APP_URL = 'gatehouse://app/index.html';
const sender: Sender = { id: 7, url: APP_URL, isMainFrame: true, push: () => undefined };
const ok = (data: unknown): BridgeResult<unknown> => ({ ok: true, data });

/** Handlers that record what each channel was given. */
function recording() {
  const calls: [string, unknown, number][] = [];
  const record =
    (name: string) =>
    (arg: unknown, from: Sender): BridgeResult<unknown> => {
      calls.push([name, arg, from.id]);
      return ok(name);
    };
  const handlers: BridgeHandlers = {
    api: record('api'),
    sessionState: record('sessionState'),
    sessionSetup: record('sessionSetup'),
    sessionLogin: record('sessionLogin'),
    sessionLogout: record('sessionLogout'),
    eventsSubscribe: record('eventsSubscribe'),
    eventsUnsubscribe: record('eventsUnsubscribe'),
    shell: record('shell'),
    restartDaemon: record('restartDaemon'),
  };
  return { calls, handlers };
}

describe('bridgeDispatch', () => {
  it('hands each declared channel its checked argument and the sender', async () => {
    const { calls, handlers } = recording();
    const dispatch = bridgeDispatch(handlers, (url) => url === APP_URL);
    expect(await dispatch(bridgeChannels.shell.channel, null, sender)).toEqual(ok('shell'));
    const login = { username: 'admin', password: 'correct horse battery' };
    expect(await dispatch(bridgeChannels.sessionLogin.channel, login, sender)).toEqual(ok('sessionLogin'));
    expect(await dispatch(bridgeChannels.eventsSubscribe.channel, { projectId: null }, sender)).toEqual(
      ok('eventsSubscribe'),
    );
    expect(calls).toEqual([
      ['shell', null, 7],
      ['sessionLogin', login, 7],
      ['eventsSubscribe', { projectId: null }, 7],
    ]);
  });

  it('refuses other frames, unknown channels and invalid arguments without calling a handler', async () => {
    const { calls, handlers } = recording();
    const dispatch = bridgeDispatch(handlers, (url) => url === APP_URL);
    expect(
      await dispatch(bridgeChannels.shell.channel, null, { ...sender, url: 'https://evil.example/' }),
    ).toMatchObject({ ok: false, problem: { code: 'forbidden', status: 403 } });
    expect(await dispatch(bridgeChannels.shell.channel, null, { ...sender, isMainFrame: false })).toMatchObject({
      ok: false,
      problem: { code: 'forbidden' },
    });
    expect(await dispatch('gatehouse:shell:exec', null, sender)).toMatchObject({
      ok: false,
      problem: { code: 'bad_request' },
    });
    const refused = await dispatch(bridgeChannels.eventsSubscribe.channel, { projectId: 42 }, sender);
    expect(refused).toMatchObject({
      ok: false,
      problem: {
        code: 'validation_failed',
        errors: expect.arrayContaining([expect.objectContaining({ location: 'arg.projectId' })]),
      },
    });
    expect(calls).toEqual([]);
  });

  it('answers a handler that throws with an internal problem instead of throwing across IPC', async () => {
    const { handlers } = recording();
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const dispatch = bridgeDispatch(
      {
        ...handlers,
        shell: () => {
          throw new Error('boom');
        },
      },
      () => true,
    );
    expect(await dispatch(bridgeChannels.shell.channel, null, sender)).toMatchObject({
      ok: false,
      problem: { code: 'internal', status: 500 },
    });
    expect(error).toHaveBeenCalled();
    error.mockRestore();
  });
});

describe('routeInput', () => {
  it("takes a request that fits the route's own schemas as the route's input", () => {
    expect(routeInput('getAgent', { params: { name: 'writer' }, projectId: 'p1' })).toEqual({
      ok: true,
      input: { params: { name: 'writer' }, projectId: 'p1' },
    });
  });

  it('names every part that does not fit', () => {
    const refused = routeInput('listAgents', { query: { limit: 5000 }, body: {} });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.problem.code).toBe('validation_failed');
    expect(refused.problem.errors?.map((error) => error.location)).toEqual(['query.limit', 'body']);
    const missing = routeInput('createAgent', {});
    expect(!missing.ok && missing.problem.errors).toEqual([{ location: 'body', message: 'is required' }]);
  });
});
