/** The notices that stay with the record: break glass, objections, "not the full record". */
import type { Notice } from '../model/notices.ts';

const ORDER: Notice['kind'][] = ['break-glass', 'withheld', 'objection', 'other', 'not-full-record'];

export function Notices({ notices }: { notices: Notice[] }) {
  const sorted = [...notices].sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
  if (sorted.length === 0) return null;
  return (
    <section className="sc-notices" aria-label="Notices about this record">
      {sorted.map((n, i) => (
        <div
          key={i}
          className={`sc-notice sc-notice--${n.kind}`}
          data-notice={n.kind}
          role={n.kind === 'break-glass' ? 'alert' : undefined}
        >
          <p>
            {n.kind === 'break-glass' && <strong>Break glass. </strong>}
            {n.text}
            {n.kind === 'not-full-record' && (
              <>
                {' '}
                <a href="#sources">Which organisations share what, and how current it is</a>.
              </>
            )}
          </p>
        </div>
      ))}
    </section>
  );
}
