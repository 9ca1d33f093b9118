import { contextBridge, ipcRenderer } from 'electron';
import { bridgeChannels, eventPushChannel, type ConsoleEvent, type GatehouseBridge } from '@gatehouse/shared';

/*
 * The desktop implementation of `window.gatehouse`. Each method wraps one declared channel;
 * `ipcRenderer` itself is never exposed, so the page can send nothing else. Main checks every
 * argument again: this file is a convenience, not the security boundary.
 */

const invoke = (channel: string, arg: unknown) => ipcRenderer.invoke(channel, arg);

/** One event subscription per window: the listeners of the project subscribed last. */
const listeners = new Set<(event: ConsoleEvent) => void>();
let subscribedProject: string | null | undefined;

ipcRenderer.on(eventPushChannel, (_event, consoleEvent: ConsoleEvent) => {
  for (const listener of listeners) listener(consoleEvent);
});

const bridge: GatehouseBridge = {
  api: (route, request) => invoke(bridgeChannels.api.channel, { ...request, route }),
  session: {
    state: () => invoke(bridgeChannels.sessionState.channel, null),
    setup: (body) => invoke(bridgeChannels.sessionSetup.channel, body),
    login: (body) => invoke(bridgeChannels.sessionLogin.channel, body),
    logout: () => invoke(bridgeChannels.sessionLogout.channel, null),
  },
  events(projectId, listener) {
    if (projectId !== subscribedProject || listeners.size === 0) {
      // Switching project: the earlier project's listeners would otherwise get this one's events.
      listeners.clear();
      subscribedProject = projectId;
      void invoke(bridgeChannels.eventsSubscribe.channel, { projectId });
    }
    listeners.add(listener);
    return () => {
      if (!listeners.delete(listener) || listeners.size > 0) return;
      subscribedProject = undefined;
      void invoke(bridgeChannels.eventsUnsubscribe.channel, null);
    };
  },
  shell: () => invoke(bridgeChannels.shell.channel, null),
  restartDaemon: () => invoke(bridgeChannels.restartDaemon.channel, null),
};

contextBridge.exposeInMainWorld('gatehouse', bridge);
