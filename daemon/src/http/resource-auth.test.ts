import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvedCode, exchangeCode, registerClient, tokenRequest } from '../testing/oauth-flow.js';
import { sql } from '../testing/sql.js';
import { startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';
import { authenticateGateway, requireResourceToken } from './resource-auth.js';

describe('the gateway as an OAuth protected resource', () => {
  let t: TestDaemon;
  let admin: string;
  // A small route guarded as /mcp is: it answers with the agent a token acts as.
  let route: FastifyInstance;
  let routeUrl: string;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'assistant', scopes: ['tools:call'] } });
    route = Fastify();
    route.post('/mcp', async (request, reply) => {
      const auth = await requireResourceToken(t.daemon.services, request, reply);
      if (!auth) return reply;
      return { agent: auth.agent.name, project: auth.project.slug, via: auth.via, scopes: auth.scopes };
    });
    // The same, with the agents' own credentials accepted too, as /mcp will.
    route.post('/gateway', async (request, reply) => {
      const auth = await authenticateGateway(t.daemon.services, request, reply);
      return auth ? { agent: auth.agent.name, via: auth.via } : reply;
    });
    routeUrl = `${await route.listen({ host: '127.0.0.1', port: 0 })}/mcp`;
  });
  afterAll(async () => {
    await route.close();
    await t.dispose();
  });

  const call = (token?: string) =>
    fetch(routeUrl, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });
  const tokensFor = async (agent = 'assistant') => {
    const { clientId, code, verifier } = await approvedCode(t, admin, agent);
    const { body } = await exchangeCode(t, clientId, code, verifier);
    return { clientId, access_token: body.access_token as string, refresh_token: body.refresh_token as string };
  };
  const challenge = (response: Response) => response.headers.get('www-authenticate') ?? '';
  const metadataUrl = () => `${t.url}/.well-known/oauth-protected-resource/mcp`;

  it('answers a request without a token 401 with a challenge naming its Protected Resource Metadata (RFC 9728)', async () => {
    const response = await call();
    expect(response.status).toBe(401);
    expect(challenge(response)).toBe(`Bearer resource_metadata="${metadataUrl()}", scope="mcp:tools"`);
    const metadata = (await (await fetch(metadataUrl())).json()) as any;
    expect(metadata).toEqual({
      resource: `${t.url}/mcp`,
      authorization_servers: [`${t.url}/oauth`],
      scopes_supported: ['mcp:tools'],
      bearer_methods_supported: ['header'],
      resource_name: 'Gatehouse MCP gateway',
    });
    expect(await (await fetch(`${t.url}/.well-known/oauth-protected-resource`)).json()).toEqual(metadata);
    const server = (await (await fetch(`${t.url}/.well-known/oauth-authorization-server/oauth`)).json()) as any;
    expect(server.issuer).toBe(metadata.authorization_servers[0]);
  });

  it("accepts the token consent issued, as the chosen agent with the agent's own grant", async () => {
    const { access_token } = await tokensFor();
    const response = await call(access_token);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      agent: 'assistant',
      project: 'default',
      via: 'oauth_token',
      scopes: ['tools:call'],
    });
  });

  it('refuses a token minted for another resource (RFC 8707 audience), with invalid_token', async () => {
    const server = await t.daemon.services.oauth.server();
    const agentId = (await t.request('GET', '/v1/agents/assistant', { token: admin })).body.id;
    const clientId = await registerClient(t);
    const elsewhere = new server.AccessToken({
      accountId: agentId,
      clientId,
      aud: 'http://127.0.0.1:9/mcp',
      scope: 'mcp:tools',
      client: await server.Client.find(clientId),
    } as never);
    const response = await call(await elsewhere.save());
    expect(response.status).toBe(401);
    expect(challenge(response)).toContain('error="invalid_token"');
    expect(await response.json()).toMatchObject({ code: 'unauthorized' });
  });

  it('refuses a token without mcp:tools with 403 insufficient_scope, naming the scope to step up to', async () => {
    const server = await t.daemon.services.oauth.server();
    const agentId = (await t.request('GET', '/v1/agents/assistant', { token: admin })).body.id;
    const clientId = await registerClient(t);
    const narrow = new server.AccessToken({
      accountId: agentId,
      clientId,
      aud: `${t.url}/mcp`,
      scope: '',
      client: await server.Client.find(clientId),
    } as never);
    const response = await call(await narrow.save());
    expect(response.status).toBe(403);
    expect(challenge(response)).toContain('error="insufficient_scope"');
    expect(challenge(response)).toContain('scope="mcp:tools"');
  });

  it('refuses a Gatehouse session token, an unknown token, an expired one and a revoked one', async () => {
    expect((await call(admin)).status).toBe(401);
    expect((await call('not-a-token')).status).toBe(401);

    const expiring = await tokensFor();
    expect((await call(expiring.access_token)).status).toBe(200);
    await sql(t, `UPDATE oauth_records SET expires_at = 1 WHERE model = 'AccessToken'`);
    expect((await call(expiring.access_token)).status).toBe(401);

    const revoked = await tokensFor();
    const revocation = await fetch(`${t.url}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: revoked.access_token, client_id: revoked.clientId }),
    });
    expect(revocation.status).toBe(200);
    expect((await call(revoked.access_token)).status).toBe(401);
  });

  it("lets the gateway take an agent's own key as well as its OAuth tokens, and challenges without either", async () => {
    const gateway = (headers: Record<string, string> = {}) =>
      fetch(routeUrl.replace(/mcp$/, 'gateway'), { method: 'POST', headers });
    const issued = await t.request('POST', '/admin/agents', { token: admin, body: { name: 'keyed', issue_key: true } });
    const key = issued.body.agent_key.api_key as string;
    expect(await (await gateway({ authorization: `Bearer ${key}` })).json()).toEqual({
      agent: 'keyed',
      via: 'agent_key',
    });
    const { access_token } = await tokensFor();
    expect(await (await gateway({ authorization: `Bearer ${access_token}` })).json()).toEqual({
      agent: 'assistant',
      via: 'oauth_token',
    });
    const none = await gateway();
    expect(none.status).toBe(401);
    expect(challenge(none)).toContain(`resource_metadata="${metadataUrl()}"`);
  });

  it("stops the agent's tokens while it is suspended, and lets them work again once it is resumed", async () => {
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'benchable' } });
    const { access_token } = await tokensFor('benchable');
    await t.request('POST', '/admin/agents/benchable/revoke', { token: admin });
    const suspended = await call(access_token);
    expect(suspended.status).toBe(401);
    expect(challenge(suspended)).toContain('error="invalid_token"');
    await t.request('POST', '/admin/agents/benchable/unrevoke', { token: admin });
    expect((await call(access_token)).status).toBe(200);
  });

  it("lists an agent's connected clients; revoking one ends its access and refresh tokens", async () => {
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'connected' } });
    const tokens = await tokensFor('connected');
    const listed = await t.request('GET', '/v1/agents/connected/oauth-clients', { token: admin });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([
      {
        client_id: tokens.clientId,
        client_name: 'Test client',
        scopes: ['mcp:tools'],
        connected_at: expect.any(String),
        expires_at: expect.any(String),
      },
    ]);

    const revoked = await t.request('DELETE', `/admin/agents/connected/oauth-clients/${tokens.clientId}`, {
      token: admin,
    });
    expect(revoked.status).toBe(204);
    expect((await call(tokens.access_token)).status).toBe(401);
    const refresh = await tokenRequest(t, {
      grant_type: 'refresh_token',
      client_id: tokens.clientId,
      refresh_token: tokens.refresh_token,
    });
    expect(refresh).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect((await t.request('GET', '/v1/agents/connected/oauth-clients', { token: admin })).body).toEqual([]);
    const audit = await t.request('GET', '/v1/audit?event_type=oauth.client_revoked', { token: admin });
    expect(audit.body[0]).toMatchObject({ target: tokens.clientId, actor: 'user:admin' });
    const again = await t.request('DELETE', `/admin/agents/connected/oauth-clients/${tokens.clientId}`, {
      token: admin,
    });
    expect(again.status).toBe(404);
  });
  // Last: once its limit engages, every failed authentication from this address is answered 429.
  it('audits refused access tokens and answers 429 with the challenge once one address has failed thirty times', async () => {
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'paused' } });
    const { access_token } = await tokensFor('paused');
    await t.request('POST', '/admin/agents/paused/revoke', { token: admin }); // suspends (the seed's name)
    expect((await call(access_token)).status).toBe(401);

    const statuses: number[] = [];
    for (let i = 0; i < 30 && statuses.at(-1) !== 429; i++) statuses.push((await call(`unknown-${i}`)).status);
    expect(statuses.slice(0, -1).every((status) => status === 401)).toBe(true);
    const limited = await call('unknown-once-more');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(challenge(limited)).toContain(`resource_metadata="${metadataUrl()}"`);
    expect(((await limited.json()) as { code: string }).code).toBe('rate_limited');
    // An accepted token is never held back by the limit.
    expect((await call((await tokensFor()).access_token)).status).toBe(200);

    const audit = await t.request('GET', '/v1/audit?event_type=auth.failed', { token: admin });
    const reasons = audit.body.map((entry: { metadata: { reason: string } }) => entry.metadata.reason);
    expect(reasons).toContain('unknown_oauth_token');
    const agentId = (await t.request('GET', '/v1/agents/paused', { token: admin })).body.id;
    const agents = await t.request('GET', `/v1/audit?event_type=auth.failed&agent_id=${agentId}`, { token: admin });
    expect(agents.body).toEqual([expect.objectContaining({ metadata: { reason: 'agent_suspended' } })]);
    expect(JSON.stringify(audit.body)).not.toContain(access_token);
  });
});
