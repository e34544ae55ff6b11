/**
 * How current each source of this record is, as the server said with the record: when each
 * organisation's system last sent anything, and when this person's newest item from it arrived.
 */
import { formatDateTime } from '../model/format.ts';
import type { SourceCurrency } from '../model/record.ts';

export function RecordCurrency({ currency }: { currency: SourceCurrency[] }) {
  if (currency.length === 0) return null;
  return (
    <p className="sc-status-line" data-testid="currency">
      <strong>How current: </strong>
      {currency.map((c, i) => (
        <span key={c.sourceSystem} data-source={c.sourceSystem} data-ods={c.ods}>
          {i > 0 && '; '}
          {c.orgName} ({c.mode === 'batch' ? 'batch' : 'live'}):{' '}
          {c.lastReceived ? `last sent ${formatDateTime(c.lastReceived)}` : 'nothing received yet'}
          {c.lastReceivedForPerson && `, this record updated ${formatDateTime(c.lastReceivedForPerson)}`}
        </span>
      ))}
    </p>
  );
}
