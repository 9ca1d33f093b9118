import type { Static, TSchema } from 'typebox';
import { Value } from 'typebox/value';
import {
  bridgeChannels,
  problem,
  routes,
  type BridgeResult,
  type CallInput,
  type Problem,
  type RouteName,
  type ConsoleEvent,
  type FieldError,
  type RouteDescriptor,
} from '@gatehouse/shared';

/** Who sent an IPC message: its frame's URL, whether it is the main frame, and how to push events back. */
export interface Sender {
  /** The sending WebContents' id: one event subscription per window. */
  id: number;
  url: string;
  isMainFrame: boolean;
  push(event: ConsoleEvent): void;
}

type Channels = typeof bridgeChannels;
type ChannelName = keyof Channels;

/** One handler per channel of the contract's table, given its argument already checked against the channel's schema. */
export type BridgeHandlers = {
  [K in ChannelName]: (
    arg: Static<Channels[K]['args']>,
    sender: Sender,
  ) => BridgeResult<unknown> | Promise<BridgeResult<unknown>>;
};

export type Dispatch = (channel: string, arg: unknown, sender: Sender) => Promise<BridgeResult<unknown>>;

export const fail = (...args: Parameters<typeof problem>) => ({ ok: false, problem: problem(...args) }) as const;

/** A value's failures against a schema as `{location, message}` errors, like the daemon's. */
function fieldErrors(schema: TSchema, value: unknown, location: string): FieldError[] {
  return [...Value.Errors(schema, value)].map((error) => ({
    location: location + error.instancePath.replaceAll('/', '.'),
    message: error.message,
  }));
}

/**
 * An `api` call's request as the input of its route, once its params, query and body pass the
 * route's own schemas; else the refusal naming each part that does not.
 */
export function routeInput<N extends RouteName>(
  name: N,
  request: { params?: unknown; query?: unknown; body?: unknown; projectId?: string | undefined },
): { ok: true; input: CallInput<N> } | { ok: false; problem: Problem } {
  const route: RouteDescriptor = routes[name];
  const parts = [
    ['params', route.params, request.params, true],
    ['query', route.querystring, request.query, false],
    ['body', route.body, request.body, true],
  ] as const;
  const errors = parts.flatMap(([location, schema, value, required]): FieldError[] => {
    if (!schema) return value === undefined ? [] : [{ location, message: 'this route takes none' }];
    if (value === undefined) return required ? [{ location, message: 'is required' }] : [];
    return fieldErrors(schema, value, location);
  });
  if (errors.length > 0) return fail('validation_failed', `Invalid request for ${name}.`, errors);
  // Each part has just passed the route's own schema, which is what CallInput<N> is made of.
  return { ok: true, input: request as CallInput<N> };
}

const isChannelName = (name: string): name is ChannelName => Object.hasOwn(bridgeChannels, name);

/** A channel's handler behind the check of its argument against the channel's schema. */
function checked<S extends TSchema>(
  channel: string,
  schema: S,
  handler: (arg: Static<S>, sender: Sender) => BridgeResult<unknown> | Promise<BridgeResult<unknown>>,
) {
  return async (arg: unknown, sender: Sender): Promise<BridgeResult<unknown>> => {
    const errors = fieldErrors(schema, arg, 'arg');
    if (errors.length > 0 || !Value.Check(schema, arg))
      return fail('validation_failed', `Invalid argument for ${channel}.`, errors);
    return handler(arg, sender);
  };
}

/**
 * The IPC side of the `window.gatehouse` bridge, kept free of Electron so it is tested in Node.
 * Every message is checked before anything happens: the sender must be the app's own main
 * frame, the channel declared, the argument valid against the channel's schema. Every answer is
 * a `BridgeResult`: nothing throws across IPC.
 */
export function bridgeDispatch(handlers: BridgeHandlers, isAppUrl: (url: string) => boolean): Dispatch {
  const byChannel = new Map<string, (arg: unknown, sender: Sender) => Promise<BridgeResult<unknown>>>();
  const add = <K extends ChannelName>(name: K) => {
    const { channel, args }: Channels[K] = bridgeChannels[name];
    byChannel.set(channel, checked<Channels[K]['args']>(channel, args, handlers[name]));
  };
  for (const name of Object.keys(bridgeChannels)) if (isChannelName(name)) add(name);
  return async (channel, arg, sender) => {
    if (!sender.isMainFrame || !isAppUrl(sender.url))
      return fail('forbidden', 'Only the Gatehouse console may use the bridge.');
    const handle = byChannel.get(channel);
    if (!handle) return fail('bad_request', `Unknown channel ${channel}.`);
    try {
      return await handle(arg, sender);
    } catch (error) {
      console.error('gatehouse bridge:', error);
      return fail('internal', 'The desktop app failed to handle this request.');
    }
  };
}
