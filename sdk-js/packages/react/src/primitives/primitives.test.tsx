import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { Alert } from './Alert';
import { Listbox } from './Listbox';
import { Modal } from './Modal';

describe('Alert', () => {
  it('is a live region present before any message, announced as an alert', () => {
    const { rerender } = render(<Alert>{null}</Alert>);
    const region = screen.getByRole('alert');
    expect(region).toBeEmptyDOMElement();
    expect(region).toHaveAttribute('aria-live', 'assertive');
    rerender(<Alert>The email or password is incorrect.</Alert>);
    expect(screen.getByRole('alert')).toHaveTextContent('The email or password is incorrect.');
  });

  it('announces confirmations politely', () => {
    render(<Alert tone="success">Saved.</Alert>);
    expect(screen.getByRole('status')).toHaveAttribute('aria-live', 'polite');
  });
});

function ModalHarness({ onClose = () => {} }: { onClose?: () => void }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button onClick={() => setOpen(true)}>Open</button>
      <Modal
        open={open}
        title="Invite"
        onClose={() => {
          onClose();
          setOpen(false);
        }}
      >
        <label>
          Email <input />
        </label>
        <button>Send</button>
      </Modal>
    </>
  );
}

describe('Modal', () => {
  it('moves focus in, traps Tab, closes on Escape and gives focus back', async () => {
    const user = userEvent.setup();
    const onClose = vi.fn();
    render(<ModalHarness onClose={onClose} />);
    const opener = screen.getByRole('button', { name: 'Open' });
    await user.click(opener);
    const dialog = screen.getByRole('dialog', { name: 'Invite' });
    expect(dialog).toHaveAttribute('aria-modal', 'true');
    expect(screen.getByRole('textbox', { name: 'Email' })).toHaveFocus();
    await user.tab();
    expect(screen.getByRole('button', { name: 'Send' })).toHaveFocus();
    await user.tab();
    expect(screen.getByRole('textbox', { name: 'Email' })).toHaveFocus();
    await user.tab({ shift: true });
    expect(screen.getByRole('button', { name: 'Send' })).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(opener).toHaveFocus();
  });
});

const ORGS = [
  { value: 'org_1', label: 'Acme' },
  { value: 'org_2', label: 'Beta' },
  { value: 'org_3', label: 'Bravo' },
];

describe('Listbox', () => {
  it('opens with the keyboard, moves, jumps by letter and chooses', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(<Listbox label="Organization" options={ORGS} value="org_1" placeholder="None" onChange={onChange} />);
    const button = screen.getByRole('button', { name: 'Organization: Acme' });
    button.focus();
    await user.keyboard('{ArrowDown}');
    const list = screen.getByRole('listbox', { name: 'Organization' });
    expect(list).toHaveFocus();
    expect(button).toHaveAttribute('aria-expanded', 'true');
    expect(list.getAttribute('aria-activedescendant')).toBe(screen.getByRole('option', { name: 'Acme' }).id);
    await user.keyboard('{ArrowDown}');
    expect(list.getAttribute('aria-activedescendant')).toBe(screen.getByRole('option', { name: 'Beta' }).id);
    await user.keyboard('b');
    expect(list.getAttribute('aria-activedescendant')).toBe(screen.getByRole('option', { name: 'Bravo' }).id);
    await user.keyboard('{Home}');
    expect(list.getAttribute('aria-activedescendant')).toBe(screen.getByRole('option', { name: 'Acme' }).id);
    await user.keyboard('{End}{Enter}');
    expect(onChange).toHaveBeenCalledWith('org_3');
    expect(screen.queryByRole('listbox')).not.toBeInTheDocument();
    expect(button).toHaveFocus();
  });

  it('closes on Escape without choosing', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(<Listbox label="Organization" options={ORGS} value="org_1" placeholder="None" onChange={onChange} />);
    await user.click(screen.getByRole('button', { name: /Organization/ }));
    await user.keyboard('{ArrowDown}{Escape}');
    expect(onChange).not.toHaveBeenCalled();
    expect(screen.queryByRole('listbox')).not.toBeInTheDocument();
  });

  it('does not report choosing the current value', async () => {
    const user = userEvent.setup();
    const onChange = vi.fn();
    render(<Listbox label="Organization" options={ORGS} value="org_2" placeholder="None" onChange={onChange} />);
    await user.click(screen.getByRole('button', { name: /Organization/ }));
    await user.click(screen.getByRole('option', { name: 'Beta' }));
    expect(onChange).not.toHaveBeenCalled();
  });
});
