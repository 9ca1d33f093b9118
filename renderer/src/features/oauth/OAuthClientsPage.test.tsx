// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeBridge, renderConsole } from '../../testing/console.js';

afterEach(cleanup);

const ALL_ON = { pre_registered_clients: true, dynamic_registration: true, client_id_metadata_documents: true };

describe('the OAuth clients page', () => {
  it('switches one registration method, leaving the others as they are', async () => {
    const bridge = fakeBridge({
      getRegistrationPolicy: () => ({ ok: true, data: ALL_ON }),
      setRegistrationPolicy: (request) => ({ ok: true, data: (request as { body: typeof ALL_ON }).body }),
      listPreRegisteredClients: () => ({ ok: true, data: [], total: 0 }),
    });
    renderConsole('/oauth', bridge);
    fireEvent.click(await screen.findByRole('checkbox', { name: /Dynamic Client Registration/ }));
    await waitFor(() =>
      expect(bridge.api).toHaveBeenCalledWith('setRegistrationPolicy', {
        body: { ...ALL_ON, dynamic_registration: false },
      }),
    );
    await waitFor(() =>
      expect((screen.getByRole('checkbox', { name: /Dynamic Client Registration/ }) as HTMLInputElement).checked).toBe(
        false,
      ),
    );
  });

  it('registers a confidential client, shows its secret once, and checks the form against the contract first', async () => {
    const clients: unknown[] = [];
    const bridge = fakeBridge({
      getRegistrationPolicy: () => ({ ok: true, data: ALL_ON }),
      listPreRegisteredClients: () => ({ ok: true, data: clients, total: clients.length }),
      preRegisterOAuthClient: () => {
        const created = {
          client_id: 'gatehouse-1',
          client_name: 'Team service',
          redirect_uris: ['https://service.example/cb'],
          confidential: true,
          created_at: '2026-12-05T09:00:00.000Z',
        };
        clients.push(created);
        return { ok: true, data: { ...created, client_secret: 's3cret-shown-once' } };
      },
    });
    renderConsole('/oauth', bridge);
    fireEvent.click(await screen.findByRole('button', { name: 'Register client' }));
    const dialog = await screen.findByRole('dialog', { name: 'Register OAuth client' });
    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'Team service' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Register' }));
    expect(await within(dialog).findByText('Must not have fewer than 1 items.')).toBeTruthy();
    expect(bridge.api).not.toHaveBeenCalledWith('preRegisterOAuthClient', expect.anything());

    fireEvent.change(within(dialog).getByLabelText(/Redirect URIs/), {
      target: { value: ' https://service.example/cb \n' },
    });
    fireEvent.click(within(dialog).getByLabelText(/Confidential/));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Register' }));
    await waitFor(() =>
      expect(bridge.api).toHaveBeenCalledWith('preRegisterOAuthClient', {
        body: { client_name: 'Team service', redirect_uris: ['https://service.example/cb'], confidential: true },
      }),
    );
    expect((await screen.findByTestId('plaintext-secret')).textContent).toBe('s3cret-shown-once');
    expect(screen.getByTestId('plaintext-note').textContent).toContain('gatehouse-1');
    const table = await screen.findByRole('table', { name: 'Pre-registered clients', hidden: true });
    expect(within(table).getByText('confidential')).toBeTruthy();
    expect(table.textContent).not.toContain('s3cret');
  });
});
