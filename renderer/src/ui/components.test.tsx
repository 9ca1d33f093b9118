// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfirmButton, Dialog, PlaintextOnceDialog } from './components.js';

afterEach(cleanup);

describe('Dialog', () => {
  it('gives focus back to what opened it when it closes', async () => {
    function Opener() {
      const [open, setOpen] = useState(false);
      return (
        <>
          <button onClick={() => setOpen(true)}>Open</button>
          {open && (
            <Dialog title="Something" onClose={() => setOpen(false)}>
              <button onClick={() => setOpen(false)}>Close</button>
            </Dialog>
          )}
        </>
      );
    }
    render(<Opener />);
    const opener = screen.getByRole('button', { name: 'Open' });
    opener.focus();
    fireEvent.click(opener);
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Close' })));
    fireEvent.click(screen.getByRole('button', { name: 'Close' }));
    await waitFor(() => expect(document.activeElement).toBe(opener));
  });
});

describe('PlaintextOnceDialog', () => {
  it('copies the secret, asks before closing, and clears the clipboard 60 s later even when closed', async () => {
    vi.useFakeTimers();
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const onClose = vi.fn();
    render(
      <PlaintextOnceDialog
        title="Key"
        secret="agent_abc"
        keychain={{ service: 'gatehouse', account: 'agent:default/a' }}
        onClose={onClose}
      />,
    );
    expect(screen.getByText(/agent:default\/a/)).toBeTruthy();
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Copy' })));
    expect(writeText).toHaveBeenLastCalledWith('agent_abc');

    fireEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(onClose).not.toHaveBeenCalled();
    expect(screen.getByRole('group', { name: 'Did you save it?' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Yes, close' }));
    expect(onClose).toHaveBeenCalledOnce();
    cleanup(); // the dialog is gone, as when its owner closes it

    await act(async () => vi.advanceTimersByTime(59_000));
    expect(writeText).toHaveBeenLastCalledWith('agent_abc');
    await act(async () => vi.advanceTimersByTime(1_000));
    expect(writeText).toHaveBeenLastCalledWith('');
    vi.useRealTimers();
  });
});

describe('ConfirmButton', () => {
  it('says what will happen and acts only on the explicit confirm', async () => {
    const onConfirm = vi.fn();
    render(
      <ConfirmButton
        title="Delete x?"
        description="x and its keys are deleted."
        confirm="Delete x"
        onConfirm={onConfirm}
      >
        Delete
      </ConfirmButton>,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Delete x?' });
    expect(dialog.textContent).toContain('x and its keys are deleted.');
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(onConfirm).not.toHaveBeenCalled();
    expect(screen.queryByRole('alertdialog')).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    fireEvent.click(screen.getByRole('button', { name: 'Delete x' }));
    expect(onConfirm).toHaveBeenCalledOnce();
  });
});
