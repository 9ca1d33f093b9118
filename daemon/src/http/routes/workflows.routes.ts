import { routes } from '@gatehouse/shared';
import { forbidden } from '../../errors.js';
import { daemonUrl } from '../listening-port.js';
import { implement } from '../route-binding.js';

/** Workflows and their graphs (the gateway's routes), and Pipelit's agent users. */
export const workflowsRoutes = [
  implement(routes.listWorkflows, async ({ services, auth, query }) => services.workflows.list(auth.project.id, query)),
  implement(routes.listWorkflowsAdmin, async ({ services, auth, query }) =>
    services.workflows.list(auth.project.id, query),
  ),
  implement(routes.createWorkflow, async ({ services, auth, body }) =>
    services.workflows.create(auth.project, body, auth.actor),
  ),
  implement(routes.getWorkflow, async ({ services, auth, params }) =>
    services.workflows.get(auth.project.id, params.name),
  ),
  implement(routes.deleteWorkflow, async ({ services, auth, params }) =>
    services.workflows.delete(auth.project, params.name, auth.actor),
  ),
  implement(routes.getWorkflowGraph, async ({ services, auth, params }) =>
    services.workflowGraph.graph(auth.project.id, params.name),
  ),
  implement(routes.addWorkflowNode, async ({ services, auth, params, body }) =>
    services.workflowGraph.addNode(auth.project, params.name, body, auth.actor),
  ),
  implement(routes.updateWorkflowNode, async ({ services, auth, params, body }) =>
    services.workflowGraph.updateNode(auth.project, params.name, params.node_id, body, auth.actor),
  ),
  implement(routes.deleteWorkflowNode, async ({ services, auth, params }) =>
    services.workflowGraph.deleteNode(auth.project, params.name, params.node_id, auth.actor),
  ),
  implement(routes.addWorkflowEdge, async ({ services, auth, params, body }) =>
    services.workflowGraph.addEdge(auth.project, params.name, body, auth.actor),
  ),
  implement(routes.updateWorkflowEdge, async ({ services, auth, params, body }) =>
    services.workflowGraph.updateEdge(auth.project, params.name, params.edge_id, body, auth.actor),
  ),
  implement(routes.deleteWorkflowEdge, async ({ services, auth, params }) =>
    services.workflowGraph.deleteEdge(auth.project, params.name, params.edge_id, auth.actor),
  ),
  implement(routes.validateWorkflow, async ({ services, auth, params }) =>
    services.workflowGraph.validate(auth.project.id, params.name),
  ),

  implement(routes.createAgentUser, async ({ services, auth, params, body, request, reply }) => {
    if (auth.kind === 'user' && auth.privilege !== 1)
      throw forbidden(`You need admin privilege on project "${auth.project.slug}".`);
    const { credentials, created } = await services.agentUsers.provision(
      auth.project,
      params.slug,
      params.node_id,
      body,
      auth.kind === 'agent' ? { kind: 'agent', agent: auth.agent } : { kind: 'user' },
      auth.actor,
      daemonUrl(request.server, services.config),
    );
    if (created) reply.status(201);
    return credentials;
  }),

  implement(routes.getTotp, async ({ services, auth }) => {
    const me = await services.agentUsers.forKey(auth.keyId);
    if (!me) throw forbidden('Only agent users have a TOTP code: authenticate with the agent user’s API key.');
    return services.agentUsers.totp(me);
  }),

  implement(routes.verifyTotp, async ({ services, auth, body }) =>
    services.agentUsers.verifyTotp(auth.project, body.username, body.code, auth.actor),
  ),

  implement(routes.selfUpdateNode, async ({ services, auth, params, body }) => {
    const me = await services.agentUsers.forKey(auth.keyId);
    if (!me) throw forbidden('Only an agent user can change its own node: authenticate with the agent user’s API key.');
    return services.workflowGraph.selfUpdate(me, { slug: params.slug, nodeId: params.node_id }, body, auth.actor);
  }),
];
