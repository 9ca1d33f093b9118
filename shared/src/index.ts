/**
 * The Gatehouse API contract: schemas, route descriptors and problem codes shared by the
 * daemon, the Electron main/preload processes, the renderer and the CLI.
 * Imports nothing from Node, Electron or the DOM.
 */
export * from './problems.js';
export * from './route.js';
export * from './routes/index.js';
export * from './bridge.js';
export * from './credentials.js';
export * from './schemas/common.js';
export * from './schemas/auth.js';
export * from './schemas/users.js';
export * from './schemas/projects.js';
export * from './schemas/audit.js';
export * from './schemas/agents.js';
export * from './schemas/keys.js';
export * from './schemas/agent-auth.js';
export * from './schemas/otas.js';
export * from './schemas/permissions.js';
export * from './schemas/approvals.js';
export * from './schemas/workflows.js';
export * from './schemas/system.js';
export * from './schemas/oauth.js';
export * from './client/index.js';
export * from './schemas/connections.js';
export * from './schemas/limits.js';
export * from './schemas/servers.js';
export * from './schemas/overview.js';
