/**
 * The summary: the most important of each section on one screen. Alerts, active problems, current
 * medications, allergies, the latest result of each recent test, upcoming appointments and recent
 * contacts, each with its source and date, and a link to the full section.
 */
import { useEffect, useMemo, type ReactNode } from 'react';
import { formatDate } from '../model/format.ts';
import { groupItems, type Group } from '../model/group.ts';
import type { Item } from '../model/item.ts';
import { medicationGroups } from '../model/medications.ts';
import type { RecordData } from '../model/record.ts';
import { sectionDef, type SectionId } from '../model/sections.ts';
import { RecordCurrency } from './RecordCurrency.tsx';
import { SourceTags } from './SourceTags.tsx';

const INACTIVE = new Set(['resolved', 'inactive', 'remission', 'refuted', 'entered-in-error']);

function Rows({ groups, empty, value }: { groups: Group[]; empty: string; value?: (g: Group) => string }) {
  if (groups.length === 0) return <p className="sc-status-line">{empty}</p>;
  return (
    <table className="sc-table">
      <tbody>
        {groups.map((g) => (
          <tr key={g.key} className={g.conflict ? 'sc-row--conflict' : undefined}>
            <td>
              {g.primary.title}
              {g.conflict && <strong className="sc-tag sc-tag--conflict">Conflict</strong>}
              {(value?.(g) ?? g.primary.detail) && (
                <span className="sc-detail">{value?.(g) ?? g.primary.detail}</span>
              )}
            </td>
            <td className={`sc-num${g.primary.abnormal ? ' sc-abnormal' : ''}`}>{g.primary.value}</td>
            <td className="sc-date">{formatDate(g.primary.date)}</td>
            <td>
              <SourceTags group={g} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Card({
  id,
  title,
  count,
  notForRole,
  children,
}: {
  id: SectionId;
  title: string;
  count: number;
  /** the role does not see this section: say so instead of "none shared" */
  notForRole?: string | false;
  children: ReactNode;
}) {
  return (
    <section className="sc-card" aria-labelledby={`summary-${id}`} data-card={id}>
      <h3 id={`summary-${id}`}>{title}</h3>
      {notForRole ? (
        <p className="sc-status-line" data-testid="not-for-role">
          {notForRole}
        </p>
      ) : (
        <>
          {children}
          <a href={`#${id}`}>
            All of {sectionDef(id)?.label.toLowerCase()} ({count.toLocaleString('en-GB')})
          </a>
        </>
      )}
    </section>
  );
}

interface Props {
  bySection: Map<SectionId, Item[]>;
  record: RecordData;
  /** whether the role sees each section, as the server said */
  access?: Map<SectionId, { level: 'all' | 'part' | 'none' }>;
  roleName?: string | undefined;
}

export function Summary({ bySection, record, access, roleName }: Props) {
  const get = (id: SectionId) => bySection.get(id) ?? [];
  const hidden = (id: SectionId) =>
    access?.get(id)?.level === 'none' &&
    `Not available to your role${roleName ? ` (${roleName})` : ''}. That does not mean there are none.`;
  const view = useMemo(() => {
    const now = Date.now();
    const problems = groupItems(
      get('problems').filter((i) => i.type === 'Condition' && !INACTIVE.has(i.status)),
    );
    const meds = medicationGroups(get('medications')).filter((m) => m.current);
    const allergies = groupItems(get('allergies')).filter((g) =>
      g.items.some((i) => !INACTIVE.has(i.status)),
    );
    const latestByTest = new Map<string, Item>();
    for (const i of get('results'))
      if (i.type === 'Observation' && i.value && !latestByTest.has(i.key)) latestByTest.set(i.key, i);
    const results = groupItems([...latestByTest.values()].slice(0, 8));
    const contacts = get('encounters');
    const upcoming = groupItems(
      contacts.filter((i) => i.type === 'Appointment' && (i.at ?? 0) > now && i.status === 'booked'),
    ).reverse();
    const recent = groupItems(
      contacts.filter((i) => i.type === 'Encounter' && (i.at ?? 0) <= now).slice(0, 5),
    );
    const alerts = groupItems(record.items.filter((i) => i.type === 'Flag' && i.status === 'active'));
    return { problems, meds, allergies, results, upcoming, recent, alerts };
  }, [bySection, record]);

  // the first useful screen (timed by bench/viewer.ts)
  useEffect(() => void performance.mark('sc-summary'), []);
  return (
    <div data-testid="summary">
      <RecordCurrency currency={record.currency} />
      {view.alerts.length > 0 && (
        <div className="sc-notice sc-notice--break-glass">
          <p>Alerts: {view.alerts.map((a) => a.primary.title).join('; ')}</p>
        </div>
      )}
      <div className="sc-cards">
        <Card
          id="problems"
          notForRole={hidden('problems')}
          title="Active problems"
          count={get('problems').length}
        >
          <Rows groups={view.problems.slice(0, 10)} empty="No active problems are shared." />
        </Card>
        <Card
          id="medications"
          notForRole={hidden('medications')}
          title="Current medications"
          count={get('medications').length}
        >
          <Rows
            groups={view.meds}
            empty="No current medications are shared."
            value={(g) => g.primary.detail}
          />
        </Card>
        <Card
          id="allergies"
          notForRole={hidden('allergies')}
          title="Allergies and reactions"
          count={get('allergies').length}
        >
          <Rows
            groups={view.allergies}
            empty="No allergies are shared. That is not the same as no known allergies."
          />
        </Card>
        <Card
          id="results"
          notForRole={hidden('results')}
          title="Latest results"
          count={get('results').length}
        >
          <Rows groups={view.results} empty="No results are shared." value={() => ''} />
        </Card>
        <Card
          id="encounters"
          notForRole={hidden('encounters')}
          title="Appointments and contacts"
          count={get('encounters').length}
        >
          <h4 className="nhsuk-u-font-size-16 nhsuk-u-margin-bottom-1">Upcoming</h4>
          <Rows groups={view.upcoming.slice(0, 5)} empty="No upcoming appointments are shared." />
          <h4 className="nhsuk-u-font-size-16 nhsuk-u-margin-bottom-1">Recent</h4>
          <Rows groups={view.recent} empty="No recent contacts are shared." />
        </Card>
      </div>
    </div>
  );
}
