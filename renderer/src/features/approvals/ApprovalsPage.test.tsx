// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeBridge, renderConsole } from '../../testing/console.js';

afterEach(cleanup);

describe('Approvals', () => {
  it('lists pending requests and approves one', async () => {
    const bridge = fakeBridge({
      listApprovals: () => ({
        ok: true,
        data: [
          {
            id: 'a1',
            agent_name: 'mailer',
            tool: 'send_email',
            summary: 'Mail the report',
            status: 'pending',
            created_at: '2026-11-23T06:00:00.000Z',
            expires_at: '2026-11-23T06:15:00.000Z',
            decided_by: null,
          },
        ],
        total: 1,
      }),
      approveApproval: () => ({ ok: true, data: {} }),
    });
    renderConsole('/approvals', bridge);
    fireEvent.click(await screen.findByRole('button', { name: 'Approve' }));
    await waitFor(() =>
      expect(bridge.api).toHaveBeenCalledWith('approveApproval', {
        projectId: 'p-default',
        params: { id: 'a1' },
        body: {},
      }),
    );
  });
});
