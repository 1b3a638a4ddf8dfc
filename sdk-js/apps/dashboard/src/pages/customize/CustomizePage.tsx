// Customize: describe a change in words → a proposal (diff, summary, security notes) →
// approve, modify or cancel → deployed and verified, or why not.
import { useEffect, useId, useState, type FormEvent } from 'react';
import { useAccount } from '../../account/context';
import type { Customization, Environment, Quota } from '../../api/types';
import { Link } from '../../shell/router';
import { DiffView } from '../../ui/DiffView';
import { EnvironmentPicker } from '../../ui/EnvironmentPicker';
import { ErrorNotice, useAction } from '../../ui/feedback';
import { plural } from '../../ui/plural';

interface Turn {
  prompt: string;
  answer: Customization;
}

export function CustomizePage() {
  const { api, account } = useAccount();
  const [env, setEnv] = useState<Environment>('test');
  const [turns, setTurns] = useState<Turn[]>([]);
  const [quota, setQuota] = useState<Quota | null>(null);
  const [prompt, setPrompt] = useState('');
  const [modifying, setModifying] = useState(false);
  const id = useId();

  useEffect(() => {
    let live = true;
    setQuota(null);
    api.customizations.list(account.id, env).then(
      (list) => live && setQuota(list.quota),
      () => undefined, // the quota shows after the first prompt instead
    );
    return () => {
      live = false;
    };
  }, [api, account.id, env]);

  const latest = turns[turns.length - 1]?.answer;
  const open = latest?.status === 'proposed' ? latest : null;

  const record = (promptText: string, answer: Customization) => {
    setTurns((t) => [...t, { prompt: promptText, answer }]);
    setQuota(answer.quota);
  };
  const replace = (answer: Customization) => {
    setTurns((t) => t.map((turn, i) => (i === t.length - 1 ? { ...turn, answer } : turn)));
    setQuota(answer.quota);
  };

  const send = useAction(async (text: string) => {
    if (open && modifying) {
      record(text, await api.customizations.modify(account.id, env, open.id, text));
    } else {
      record(text, await api.customizations.propose(account.id, env, text));
    }
    setPrompt('');
    setModifying(false);
  });
  const approve = useAction(async (c: Customization) => replace(await api.customizations.approve(account.id, env, c.id)));
  const cancel = useAction(async (c: Customization) => replace(await api.customizations.cancel(account.id, env, c.id)));
  const error = send.error ?? approve.error ?? cancel.error;

  function submit(event: FormEvent) {
    event.preventDefault();
    const text = prompt.trim();
    if (text) void send.run(text);
  }

  const exhausted = quota !== null && quota.used >= quota.limit;
  return (
    <section aria-labelledby="customize-title" className="page">
      <h1 id="customize-title">Customize</h1>
      <p>
        Describe what your instance should do, in your own words. You see the exact change before anything happens; every
        approved change is a revision you can <Link to="/revisions">roll back</Link>.
      </p>
      <EnvironmentPicker
        value={env}
        onChange={(e) => {
          setEnv(e);
          setTurns([]);
          setModifying(false);
        }}
      />
      <p aria-live="polite">
        {quota ? `${quota.used} of ${plural(quota.limit, 'prompt')} used this month.` : 'Prompts are limited per month by your plan.'}
      </p>
      <div className="chat" role="log" aria-label="Conversation">
        {turns.map((turn, i) => (
          <div key={i} className="chat">
            <p className="chat-bubble mine">
              <span className="visually-hidden">You: </span>
              {turn.prompt}
            </p>
            <Answer
              c={turn.answer}
              isLatest={i === turns.length - 1}
              busy={approve.busy || cancel.busy}
              onApprove={() => void approve.run(turn.answer)}
              onModify={() => {
                setModifying(true);
                document.getElementById(`${id}-prompt`)?.focus();
              }}
              onCancel={() => void cancel.run(turn.answer)}
            />
          </div>
        ))}
        {approve.busy && (
          <p className="chat-bubble" role="status">
            Deploying and verifying… this can take up to a minute.
          </p>
        )}
      </div>
      {error !== null && <ErrorNotice error={error} />}
      <form onSubmit={submit} className="card">
        <label htmlFor={`${id}-prompt`}>{modifying ? 'What should change in this proposal?' : 'What should change?'}</label>
        <textarea
          id={`${id}-prompt`}
          rows={3}
          cols={80}
          maxLength={2000}
          value={prompt}
          placeholder="require a minimum password length of 12"
          onChange={(e) => setPrompt(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.metaKey || e.ctrlKey)) submit(e);
          }}
        />
        <p className="hint">Ctrl+Enter sends.</p>
        <div className="row">
          <button type="submit" disabled={!prompt.trim() || exhausted || (Boolean(open) && !modifying)} aria-busy={send.busy}>
            {send.busy ? 'Planning…' : modifying ? 'Modify proposal' : 'Propose'}
          </button>
          {modifying && (
            <button type="button" className="button-secondary" onClick={() => setModifying(false)}>
              Keep the proposal as it is
            </button>
          )}
        </div>
        {open && !modifying && <p className="hint">Approve, modify or cancel the open proposal first.</p>}
        {exhausted && <p className="hint">You have used this month's prompts. They renew on the 1st, or a larger plan has more.</p>}
      </form>
    </section>
  );
}

function Answer({
  c,
  isLatest,
  busy,
  onApprove,
  onModify,
  onCancel,
}: {
  c: Customization;
  isLatest: boolean;
  busy: boolean;
  onApprove: () => void;
  onModify: () => void;
  onCancel: () => void;
}) {
  // A proposal that changes nothing has nothing to approve.
  const nothing = c.diff ? c.diff.changes.length === 0 : c.patch.length === 0;
  return (
    <div className="chat-bubble" aria-label="AuthStack">
      {c.status === 'refused' && <p>{c.result ?? 'This cannot be done by a configuration change.'}</p>}
      {c.status === 'proposed' && (
        <>
          <p>
            <strong>Proposal:</strong> {c.summary}
          </p>
          {c.diff && (
            <DiffView
              diff={c.diff}
              caption={`The proposed change against revision ${c.base_revision}`}
              fromLabel={`Revision ${c.base_revision}`}
              toLabel="Proposed"
              securityNotes={c.security_notes}
            />
          )}
          {!c.diff && c.security_notes.length > 0 && (
            <ul aria-label="Security notes">
              {c.security_notes.map((n) => (
                <li key={n}>{n}</li>
              ))}
            </ul>
          )}
          <NotActive c={c} />
          {nothing && <p role="status">Nothing to change: the configuration already says this.</p>}
          {isLatest && (
            <div className="row">
              {!nothing && (
                <button type="button" aria-busy={busy} onClick={() => !busy && onApprove()}>
                  Approve and deploy
                </button>
              )}
              <button type="button" className="button-secondary" disabled={busy} onClick={onModify}>
                Modify
              </button>
              <button type="button" className="button-secondary" disabled={busy} onClick={onCancel}>
                Cancel
              </button>
            </div>
          )}
          {!isLatest && <p className="hint">Replaced by a newer proposal.</p>}
        </>
      )}
      {c.status !== 'proposed' && c.status !== 'refused' && c.status !== 'cancelled' && <NotActive c={c} />}
      {c.status === 'deploying' && <p role="status">Deploying revision {c.revision ?? ''}…</p>}
      {c.status === 'deployed' && (
        <div className="notice notice-success" role="status">
          <p>{c.result ?? `Done: revision ${c.revision ?? ''} is deployed and verified.`}</p>
        </div>
      )}
      {c.status === 'failed' && (
        <div className="notice notice-error" role="alert">
          <p>{c.result ?? 'It did not work: the new revision failed and the instance went back to its last healthy one.'}</p>
          <p>
            Nothing else changed. Try a different wording, or see the <Link to="/revisions">revisions</Link>.
          </p>
        </div>
      )}
      {c.status === 'cancelled' && <p>Cancelled; nothing changed.</p>}
    </div>
  );
}

/** The settings a change records that the instance does not act on yet: said plainly, never implied to work. */
function NotActive({ c }: { c: Customization }) {
  const items = c.not_active ?? [];
  if (items.length === 0) return null;
  return (
    <div className="notice" role="note" aria-label="Recorded only">
      <ul>
        {items.map((n) => (
          <li key={n.path}>
            Recorded only: this instance does not act on {n.label} yet (<code>{n.path}</code>).
          </li>
        ))}
      </ul>
    </div>
  );
}
