/**
 * No legitimate relationship: say why, and offer break glass (a stated reason, an optional note).
 * The grant is time-limited, audited with a flag and reviewed by the data protection officer; the
 * record then carries a break-glass notice for as long as it is open.
 */
import { useId, useState, type FormEvent } from 'react';
import { ApiError, breakGlass, type Session } from '../session.ts';

/** The reasons the server accepts (BREAK_GLASS_REASONS in src/access/break-glass.ts). */
export const BREAK_GLASS_REASONS: { code: string; label: string }[] = [
  { code: 'emergency-care', label: 'Emergency care: the person needs care now' },
  { code: 'new-referral', label: 'A referral or admission not yet recorded' },
  { code: 'safeguarding', label: 'Safeguarding concern' },
];

interface Props {
  text: string;
  allowed: boolean;
  session: Session;
  onGranted(): void;
}

export function BreakGlass({ text, allowed, session, onGranted }: Props) {
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const id = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!reason) return setError('Choose the reason you need to see this record.');
    setBusy(true);
    setError('');
    try {
      await breakGlass(session, reason, note);
      onGranted();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
      setBusy(false);
    }
  }

  return (
    <main id="main" className="sc-layout" style={{ gridTemplateColumns: 'minmax(0, 44rem)' }}>
      <div className="sc-main" data-testid="break-glass">
        <h2>
          {allowed
            ? 'You do not have a care relationship with this person'
            : 'This record cannot be opened in this session'}
        </h2>
        <p>{text.charAt(0).toUpperCase() + text.slice(1)}</p>
        {!allowed ? (
          <p>Break glass is not available for this access.</p>
        ) : (
          <form onSubmit={(e) => void submit(e)} noValidate>
            <div className={`nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}`}>
              <fieldset
                className="nhsuk-fieldset"
                aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
              >
                <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">
                  Why do you need to see this record now? (break glass)
                </legend>
                <div className="nhsuk-hint" id={`${id}-hint`}>
                  Access is time-limited, recorded, flagged and reviewed by the data protection officer. The
                  person may be told.
                </div>
                {error && (
                  <span className="nhsuk-error-message" id={`${id}-error`} role="alert">
                    <span className="nhsuk-u-visually-hidden">Error:</span> {error}
                  </span>
                )}
                <div className="nhsuk-radios nhsuk-radios--small">
                  {BREAK_GLASS_REASONS.map((r) => (
                    <div className="nhsuk-radios__item" key={r.code}>
                      <input
                        className="nhsuk-radios__input"
                        id={`${id}-${r.code}`}
                        name="reason"
                        type="radio"
                        value={r.code}
                        checked={reason === r.code}
                        onChange={() => setReason(r.code)}
                      />
                      <label className="nhsuk-label nhsuk-radios__label" htmlFor={`${id}-${r.code}`}>
                        {r.label}
                      </label>
                    </div>
                  ))}
                </div>
              </fieldset>
            </div>
            <div className="nhsuk-form-group">
              <label className="nhsuk-label" htmlFor={`${id}-note`}>
                Note (optional)
              </label>
              <textarea
                className="nhsuk-textarea"
                id={`${id}-note`}
                rows={3}
                maxLength={2000}
                value={note}
                onChange={(e) => setNote(e.target.value)}
              />
            </div>
            <button type="submit" className="nhsuk-button nhsuk-button--warning" disabled={busy}>
              Break glass and open the record
            </button>
          </form>
        )}
      </div>
    </main>
  );
}
