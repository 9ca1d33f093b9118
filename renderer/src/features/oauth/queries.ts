import { queryOptions } from '@tanstack/react-query';
import { call, WHOLE } from '../../api.js';

/** Every OAuth query of a project sits under `oauthKeys.project(id)`: one invalidation reaches them all. */
export const oauthKeys = {
  all: ['oauth'] as const,
  project: (projectId: string) => [...oauthKeys.all, projectId] as const,
  request: (projectId: string, uid: string) => [...oauthKeys.project(projectId), 'request', uid] as const,
  clients: (projectId: string, agent: string) => [...oauthKeys.project(projectId), 'clients', agent] as const,
};

export const oauthQueries = {
  request: (projectId: string, uid: string) =>
    queryOptions({
      queryKey: oauthKeys.request(projectId, uid),
      queryFn: () => call('getOAuthRequest', { projectId, params: { uid } }),
      // A pending request is answered once; asking again after the answer finds nothing.
      retry: false,
      staleTime: Infinity,
    }),
  clients: (projectId: string, agent: string) =>
    queryOptions({
      queryKey: oauthKeys.clients(projectId, agent),
      queryFn: () => call('listConnectedClients', { projectId, params: { name: agent }, query: WHOLE }),
    }),
};

/** The authorization server's own settings (admins): how clients register, and the clients an admin registered. */
export const oauthServerKeys = {
  all: ['oauth-server'] as const,
  registration: () => [...oauthServerKeys.all, 'registration'] as const,
  preRegistered: () => [...oauthServerKeys.all, 'pre-registered'] as const,
};

export const oauthServerQueries = {
  registration: () =>
    queryOptions({ queryKey: oauthServerKeys.registration(), queryFn: () => call('getRegistrationPolicy', {}) }),
  preRegistered: () =>
    queryOptions({
      queryKey: oauthServerKeys.preRegistered(),
      queryFn: () => call('listPreRegisteredClients', { query: WHOLE }),
    }),
};
