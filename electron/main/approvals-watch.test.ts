import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { ADMIN, startTestDaemon, type TestDaemon } from '../../daemon/src/testing/test-daemon.js';
import { ApprovalsWatch, type ApprovalNotice } from './approvals-watch.js';
import { BridgeHost } from './bridge-host.js';

let t: TestDaemon;
let watch: ApprovalsWatch | undefined;

beforeEach(async () => {
  t = await startTestDaemon();
});

afterEach(async () => {
  watch?.close();
  await t.dispose();
});

it('counts pending approvals for the tray and announces each new request once', async () => {
  const host = new BridgeHost({ daemonUrl: () => t.url, isAppUrl: () => true, appVersion: '0' });
  const counts: Array<number | null> = [];
  const notices: ApprovalNotice[] = [];
  watch = new ApprovalsWatch({ host, onCount: (count) => counts.push(count), notify: (n) => notices.push(n) });

  await host.setup(ADMIN);
  await vi.waitFor(() => expect(counts.at(-1)).toBe(0));
  await host.api({ route: 'createTool', body: { name: 'deploy', description: 'Ship it' } });
  const agent = await host.api({
    route: 'createAgent',
    body: { name: 'shipper', backend: 'gpt4o', allowed_tools: ['deploy'], issue_key: true },
  });
  const key = (agent as { data: { agent_key: { api_key: string } } }).data.agent_key.api_key;
  await new Promise((resolve) => setTimeout(resolve, 300)); // the stream is live

  const ask = (idempotency_key: string) =>
    t.request('POST', '/v1/approvals', {
      headers: { 'x-api-key': key },
      body: { tool: 'deploy', summary: 'Deploy v2 to production', idempotency_key },
    });
  const first = await ask('release-2');
  expect(first.status).toBe(201);
  await ask('release-2'); // the same request again: no second notice
  await vi.waitFor(() => expect(counts.at(-1)).toBe(1));
  await vi.waitFor(() =>
    expect(notices).toEqual([
      { title: 'shipper asks to use deploy', body: 'Deploy v2 to production', approvalId: first.body.id },
    ]),
  );

  await host.api({ route: 'approveApproval', params: { id: first.body.id }, body: {} });
  await vi.waitFor(() => expect(counts.at(-1)).toBe(0));

  await host.logout();
  expect(counts.at(-1)).toBeNull();
  expect(notices).toHaveLength(1);
});

it('follows every project of the admin, not only the default one', async () => {
  const host = new BridgeHost({ daemonUrl: () => t.url, isAppUrl: () => true, appVersion: '0' });
  await host.setup(ADMIN);
  const lab = (await host.api({ route: 'createProject', body: { name: 'Lab' } })) as { data: { id: string } };
  await host.api({ route: 'createTool', body: { name: 'centrifuge', description: 'Spin' } });
  const agent = await host.api({
    route: 'createAgent',
    projectId: lab.data.id,
    body: { name: 'technician', allowed_tools: ['centrifuge'], issue_key: true },
  });
  const key = (agent as { data: { agent_key: { api_key: string } } }).data.agent_key.api_key;

  const counts: Array<number | null> = [];
  const notices: ApprovalNotice[] = [];
  // Started after the project exists: the watch follows the projects of the sign-in.
  watch = new ApprovalsWatch({ host, onCount: (count) => counts.push(count), notify: (n) => notices.push(n) });
  await vi.waitFor(() => expect(counts.at(-1)).toBe(0));
  await new Promise((resolve) => setTimeout(resolve, 300)); // the streams are live

  const asked = await t.request('POST', '/v1/approvals', {
    headers: { 'x-api-key': key },
    body: { tool: 'centrifuge', summary: 'Spin sample 7', idempotency_key: 'sample-7' },
  });
  expect(asked.status).toBe(201);
  await vi.waitFor(() => expect(counts.at(-1)).toBe(1));
  await vi.waitFor(() =>
    expect(notices).toEqual([
      { title: 'technician asks to use centrifuge', body: 'Spin sample 7', approvalId: asked.body.id },
    ]),
  );
});
