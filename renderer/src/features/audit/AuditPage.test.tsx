// @vitest-environment jsdom
import { cleanup, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeBridge, renderConsole } from '../../testing/console.js';

afterEach(cleanup);

describe('Audit', () => {
  it('shows a broken chain loudly, with its break point', async () => {
    const bridge = fakeBridge({
      listAudit: () => ({ ok: true, data: [], total: 0 }),
      listAgents: () => ({ ok: true, data: [], total: 0 }),
      verifyAudit: () => ({
        ok: true,
        data: { is_valid: false, entries_checked: 12, break_point: 7, error: 'entry_hash mismatch', verified_at: 'x' },
      }),
    });
    renderConsole('/audit', bridge);
    expect((await screen.findByRole('alert')).textContent).toContain('broken at entry #7');
  });
});
