import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN, startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';

describe('approvals', () => {
  let t: TestDaemon;
  let admin: string;
  let agentKey: string;
  let otherKey: string;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    for (const name of ['send_email', 'web_search'])
      await t.request('POST', '/admin/tools', { token: admin, body: { name } });
    const mailer = await t.request('POST', '/admin/agents', {
      token: admin,
      body: { name: 'mailer', allowed_tools: ['send_email', 'web_search'], issue_key: true },
    });
    agentKey = mailer.body.agent_key.api_key;
    await t.request('PUT', '/admin/agents/mailer/approval-required-tools', {
      token: admin,
      body: { tools: ['send_email'] },
    });
    otherKey = (await t.request('POST', '/admin/agents', { token: admin, body: { name: 'other', issue_key: true } }))
      .body.agent_key.api_key;
  });
  afterAll(() => t.dispose());

  const ask = (body: Record<string, unknown>, key = agentKey) =>
    t.request('POST', '/v1/approvals', { headers: { 'x-api-key': key }, body: { tool: 'send_email', ...body } });

  it('creates a pending request once per idempotency key', async () => {
    const first = await ask({ summary: 'Send the weekly report to ops@', idempotency_key: 'report-1' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      agent_name: 'mailer',
      tool: 'send_email',
      status: 'pending',
      decided_by: null,
    });
    const minutes = (Date.parse(first.body.expires_at) - Date.parse(first.body.created_at)) / 60_000;
    expect(minutes).toBe(15);

    const again = await ask({ summary: 'Send the weekly report to ops@', idempotency_key: 'report-1' });
    expect(again.body.id).toBe(first.body.id);
    const reused = await ask({ summary: 'Something else', idempotency_key: 'report-1' });
    expect(reused.status).toBe(409);
  });

  it('refuses a request for a tool the agent may not use at all', async () => {
    const refused = await ask({ tool: 'delete_everything', summary: 'x', idempotency_key: 'nope' });
    expect(refused.status).toBe(403);
  });

  it('is approved once by an admin; the agent reads the decision, another agent cannot', async () => {
    const request = (await ask({ summary: 'Mail the invoice', idempotency_key: 'invoice-7' })).body;
    const pending = await t.request('GET', '/v1/approvals?status=pending', { token: admin });
    expect(pending.body.map((a: { id: string }) => a.id)).toContain(request.id);

    const approved = await t.request('POST', `/admin/approvals/${request.id}/approve`, {
      token: admin,
      body: { note: 'fine' },
    });
    expect(approved.body).toMatchObject({ status: 'approved', decided_by: 'user:admin', decision_note: 'fine' });
    expect((await t.request('POST', `/admin/approvals/${request.id}/deny`, { token: admin, body: {} })).status).toBe(
      409,
    );

    const seen = await t.request('GET', `/v1/approvals/${request.id}`, { headers: { 'x-api-key': agentKey } });
    expect(seen.body.status).toBe('approved');
    expect((await t.request('GET', `/v1/approvals/${request.id}`, { headers: { 'x-api-key': otherKey } })).status).toBe(
      404,
    );
  });

  it('is denied', async () => {
    const request = (await ask({ summary: 'Mail everyone', idempotency_key: 'spam' })).body;
    const denied = await t.request('POST', `/admin/approvals/${request.id}/deny`, { token: admin });
    expect(denied.body.status).toBe('denied');
    const listed = await t.request('GET', '/v1/approvals?status=denied', { token: admin });
    expect(listed.body.map((a: { id: string }) => a.id)).toEqual([request.id]);
  });

  it('expires when nobody answers in time, and can no longer be approved', async () => {
    const request = (await ask({ summary: 'Quick one', idempotency_key: 'short', expires_in_seconds: 1 })).body;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await t.request('GET', `/v1/approvals/${request.id}`, { token: admin })).body.status).toBe('expired');
    const expired = await t.request('GET', '/v1/approvals?status=expired', { token: admin });
    expect(expired.body.map((a: { id: string }) => a.id)).toContain(request.id);
    const pending = await t.request('GET', '/v1/approvals?status=pending', { token: admin });
    expect(pending.body.map((a: { id: string }) => a.id)).not.toContain(request.id);
    const late = await t.request('POST', `/admin/approvals/${request.id}/approve`, { token: admin, body: {} });
    expect(late.status).toBe(409);
    expect(late.body.detail).toContain('expired');
  });

  it('writes an expiry as it happens, once, by the daemon itself, so the console hears of it', async () => {
    const expiries = async (id: string) =>
      (await t.request('GET', '/v1/audit?event_type=approval.expired', { token: admin })).body.filter(
        (event: { target: string }) => event.target === `approval:${id}`,
      );
    const request = (await ask({ summary: 'Soon gone', idempotency_key: 'soon', expires_in_seconds: 1 })).body;
    expect(await expiries(request.id)).toEqual([]);
    await vi.waitFor(async () => expect(await expiries(request.id)).toHaveLength(1), { timeout: 5000 });
    expect((await expiries(request.id))[0]).toMatchObject({ actor: 'system', outcome: 'success' });

    // One that expires while the daemon is stopped is written when it starts again.
    const offline = (await ask({ summary: 'While away', idempotency_key: 'away', expires_in_seconds: 1 })).body;
    await t.stop();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    Object.assign(t, await t.restart());
    admin = (await t.login('admin', 'correct horse battery staple')).body.access_token;
    expect(await expiries(offline.id)).toHaveLength(1);
  });
});

describe('GET /v1/events (Server-Sent Events)', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => ({ t, admin } = await startWithAdmin()));
  afterAll(() => t.dispose());

  /** Opens the stream and collects `{event, data}` messages until `until` holds. */
  async function follow(
    until: (messages: Array<{ event: string; data: any }>) => boolean,
    headers: Record<string, string> = {},
  ) {
    const controller = new AbortController();
    const response = await fetch(`${t.url}/v1/events`, {
      headers: { authorization: `Bearer ${admin}`, ...headers },
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const messages: Array<{ event: string; data: any }> = [];
    let buffer = '';
    const done = (async () => {
      while (!until(messages)) {
        const { value, done: ended } = await reader.read();
        if (ended) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) messages.push({ event, data: JSON.parse(data) });
        }
      }
      controller.abort();
      return messages;
    })();
    return { done };
  }

  it('shows one client the changes another client makes, as they commit', async () => {
    const stream = await follow((messages) => messages.some((m) => m.data.event_type === 'key.created'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'watched', issue_key: true } });
    const messages = await stream.done;
    expect(messages.map((m) => `${m.event}:${m.data.event_type}`)).toEqual(
      expect.arrayContaining(['agent:agent.created', 'key:key.created']),
    );
    expect(JSON.stringify(messages)).not.toMatch(/agent_[0-9A-Za-z]{8}_[0-9A-Za-z]{38}/);
  });

  it('sends a reconnecting client what it missed since its Last-Event-ID, once and in order', async () => {
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'seen' } });
    const [seen] = (await t.request('GET', '/v1/audit?event_type=agent.created&limit=1', { token: admin })).body;
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'missed-1' } });
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'missed-2' } });

    const names = (messages: Array<{ data: any }>) =>
      messages.filter((m) => m.data.event_type === 'agent.created').map((m) => m.data.target);
    const stream = await follow((messages) => names(messages).length >= 3, {
      'last-event-id': String(seen.sequence_number),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'live' } });
    const messages = await stream.done;
    expect(names(messages)).toEqual(['agent:missed-1', 'agent:missed-2', 'agent:live']);
    const ids = messages.map((m) => m.data.sequence_number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids.every((id) => id > seen.sequence_number)).toBe(true);
  });

  /** Opens a stream with `token`; `ended` resolves with the events it delivered once the daemon ends it. */
  async function open(token: string) {
    const response = await fetch(`${t.url}/v1/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
    expect(response.status).toBe(200);
    const ended = (async () => {
      let text = '';
      for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) text += chunk;
      return [...text.matchAll(/^data: (.*)$/gm)].map((match) => JSON.parse(match[1]!).event_type as string);
    })();
    // Subscribed once the stream has been read from the feed at least once.
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { ended };
  }

  it('ends a stream whose session logs out, without sending it the logout', async () => {
    const { access_token } = (await t.login(ADMIN.username, ADMIN.password)).body;
    const stream = await open(access_token);
    expect((await t.request('POST', '/auth/logout', { token: access_token, body: {} })).status).toBe(204);
    expect(await stream.ended).not.toContain('auth.logout');
  });

  it("ends a user's streams when the password changes elsewhere, the membership goes, or the user is disabled", async () => {
    const password = 'streaming user password 1';
    const user = await t.request('POST', '/admin/users', {
      token: admin,
      body: { username: 'streamer', password },
    });
    expect(user.status).toBe(201);
    const projects = (await t.request('GET', '/admin/projects', { token: admin })).body;
    const member = `/admin/projects/${projects.find((p: { slug: string }) => p.slug === 'default').id}/members/${user.body.id}`;
    expect((await t.request('PUT', member, { token: admin, body: { privilege: 2 } })).status).toBe(200);
    const signIn = async () => (await t.login('streamer', password)).body.access_token as string;

    const first = await open(await signIn());
    const other = await signIn();
    expect(
      (
        await t.request('POST', '/auth/password', {
          token: other,
          body: { current_password: password, new_password: 'streaming user password 2' },
        })
      ).status,
    ).toBe(204);
    await first.ended;

    const second = await open(other);
    expect((await t.request('DELETE', member, { token: admin })).status).toBe(204);
    await second.ended;

    expect((await t.request('PUT', member, { token: admin, body: { privilege: 2 } })).status).toBe(200);
    const third = await open(other);
    expect(
      (await t.request('PATCH', `/admin/users/${user.body.id}`, { token: admin, body: { disabled: true } })).status,
    ).toBe(200);
    await third.ended;
  });

  it('ends a stream when its access token expires', async () => {
    const { access_token } = (await t.login(ADMIN.username, ADMIN.password)).body;
    const claims = JSON.parse(Buffer.from(access_token.split('.')[1], 'base64url').toString());
    const shortLived = await t.daemon.services.signer.sign({ sub: claims.sub, sid: claims.sid, typ: 'user' }, 2);
    const stream = await open(shortLived);
    const started = Date.now();
    await stream.ended;
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('needs a member of the project', async () => {
    const response = await fetch(`${t.url}/v1/events`);
    expect(response.status).toBe(401);
  });

  it('does not hold the daemon open when it shuts down', async () => {
    const other = await startWithAdmin();
    const response = await fetch(`${other.t.url}/v1/events`, { headers: { authorization: `Bearer ${other.admin}` } });
    expect(response.status).toBe(200);
    const started = Date.now();
    await other.t.dispose();
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('does not hold the daemon open after a client hung up (its HTTP client keeps a fresh connection ready)', async () => {
    const other = await startWithAdmin();
    const controller = new AbortController();
    const response = await fetch(`${other.t.url}/v1/events`, {
      headers: { authorization: `Bearer ${other.admin}` },
      signal: controller.signal,
    });
    await response.body!.getReader().read();
    controller.abort();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await other.t.dispose();
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
