/**
 * A compact table of grouped items: date, what, value or detail, status, every source, a conflict
 * marker, "Copy reference", and the entries behind a group on demand. Long lists are shown a page
 * at a time ("Show more"), so a heavy record stays responsive.
 */
import { Fragment, useState, type ReactNode } from 'react';
import { capitalise, formatDate } from '../model/format.ts';
import type { Group } from '../model/group.ts';
import type { Item } from '../model/item.ts';
import { CopyReference } from './CopyReference.tsx';
import { SourceTags } from './SourceTags.tsx';

export const PAGE = 100;

export function usePaging(total: number): { limit: number; more: ReactNode } {
  const [limit, setLimit] = useState(PAGE);
  const more =
    total > limit ? (
      <p>
        <button type="button" className="sc-button" onClick={() => setLimit(limit + PAGE)}>
          Show {Math.min(PAGE, total - limit)} more ({(total - limit).toLocaleString('en-GB')} not shown)
        </button>
      </p>
    ) : null;
  return { limit, more };
}

export function StatusTag({ status }: { status: string }) {
  if (!status) return null;
  return <span className={`sc-tag sc-tag--status-${status}`}>{capitalise(status)}</span>;
}

function ItemCells({ item, showKind }: { item: Item; showKind?: boolean }) {
  return (
    <>
      <td className="sc-date">{formatDate(item.date)}</td>
      <td>
        {showKind && item.kind && <span className="sc-tag">{item.kind}</span>}
        {item.title}
        {item.detail && <span className="sc-detail">{item.detail}</span>}
      </td>
      <td className={`sc-num${item.abnormal ? ' sc-abnormal' : ''}`}>
        {item.value}
        {item.abnormal && <span className="sc-visually-hidden"> (outside the reference range)</span>}
      </td>
      <td>
        <StatusTag status={item.status} />
      </td>
    </>
  );
}

interface Props {
  groups: Group[];
  caption: string;
  showKind?: boolean;
  /** extra cell content for a group (e.g. "Show trend") */
  extra?: (g: Group) => ReactNode;
  /** items shown under a group when it is opened (a report's results) */
  childrenOf?: (g: Group) => Item[];
  empty?: ReactNode;
}

export function GroupTable({ groups, caption, showKind, extra, childrenOf, empty }: Props) {
  const [open, setOpen] = useState<Set<string>>(new Set());
  const { limit, more } = usePaging(groups.length);
  if (groups.length === 0) return <>{empty ?? <p>Nothing to show.</p>}</>;
  const kids = (g: Group) => childrenOf?.(g) ?? [];
  const extraOf = (g: Group) => extra?.(g) ?? null;
  const expandable = (g: Group) => g.items.length > 1 || kids(g).length > 0;
  const expandLabel = (g: Group) =>
    kids(g).length > 0 ? `${kids(g).length} results` : `${g.items.length} entries`;
  const rowsUnder = (g: Group) => [...(g.items.length > 1 ? g.items : []), ...kids(g)];
  const toggle = (key: string) => {
    const next = new Set(open);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    setOpen(next);
  };
  return (
    <>
      <table className="sc-table">
        <caption className="sc-visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Date</th>
            <th scope="col">Item</th>
            <th scope="col">Value</th>
            <th scope="col">Status</th>
            <th scope="col">Source</th>
            <th scope="col">
              <span className="sc-visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {groups.slice(0, limit).map((g) => (
            <Fragment key={g.key}>
              <tr className={g.conflict ? 'sc-row--conflict' : undefined} data-testid="item-row">
                <ItemCells item={g.primary} showKind={showKind} />
                <td>
                  <SourceTags group={g} />
                  {g.conflict && (
                    <span className="sc-detail">
                      <strong className="sc-tag sc-tag--conflict">Conflict</strong> {g.conflict}
                    </span>
                  )}
                </td>
                <td className="sc-actions">
                  <CopyReference item={g.primary} />
                  {expandable(g) && (
                    <>
                      {' · '}
                      <button
                        type="button"
                        className="sc-button sc-button--link"
                        aria-expanded={open.has(g.key)}
                        onClick={() => toggle(g.key)}
                      >
                        {open.has(g.key) ? 'Hide' : 'Show'} {expandLabel(g)}
                      </button>
                    </>
                  )}
                  {extraOf(g) && <> · {extraOf(g)}</>}
                </td>
              </tr>
              {open.has(g.key) &&
                rowsUnder(g).map((i) => (
                  <tr key={i.id} className="sc-row--child">
                    <ItemCells item={i} showKind={showKind} />
                    <td>
                      <span className="sc-tag" data-ods={i.prov.ods}>
                        {i.prov.orgName}
                      </span>
                    </td>
                    <td>
                      <CopyReference item={i} />
                    </td>
                  </tr>
                ))}
            </Fragment>
          ))}
        </tbody>
      </table>
      {more}
    </>
  );
}
