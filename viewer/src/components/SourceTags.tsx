/** Every organisation that reports an item, each with the date it reached Sharedcare. */
import { formatDateTime } from '../model/format.ts';
import type { Group } from '../model/group.ts';

export function SourceTags({ group }: { group: Group }) {
  return (
    <>
      {group.sources.length > 1 && (
        <span className="sc-visually-hidden">Reported by {group.sources.length} organisations: </span>
      )}
      {group.sources.map((s) => (
        <span
          key={s.ods}
          className="sc-tag"
          data-ods={s.ods}
          title={
            s.received ? `Received ${formatDateTime(s.received)} from ${s.sourceSystem}` : s.sourceSystem
          }
        >
          {s.orgName}
        </span>
      ))}
    </>
  );
}
