/**
 * The record: section navigation (with counts) and the section on show, chosen by the URL's hash
 * (#problems), so the browser's back button and keyboard links work. Sections render only when
 * shown, so a heavy record opens as fast as a light one.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { NO_FILTERS, type FilterState } from '../model/filters.ts';
import type { Item } from '../model/item.ts';
import type { RecordData } from '../model/record.ts';
import { originKinds, SECTIONS, sectionAccess, sectionDef, type SectionId } from '../model/sections.ts';
import type { Resource } from '@medplum/fhirtypes';
import type { Contributor } from '../session.ts';
import { Documents } from './Documents.tsx';
import { ItemSection } from './ItemSection.tsx';
import { Medications } from './Medications.tsx';
import { Results } from './Results.tsx';
import { SourcesPanel } from './SourcesPanel.tsx';
import { Summary } from './Summary.tsx';
import { Timeline } from './Timeline.tsx';

function currentSection(): SectionId {
  const id = location.hash.replace(/^#\/?/, '');
  return (sectionDef(id)?.id ?? 'summary') as SectionId;
}

interface Props {
  record: RecordData;
  /** the sections the user's role may see, as the server said; undefined: not known */
  sections?: readonly string[] | undefined;
  roleName?: string | undefined;
  sources: Contributor[] | undefined;
  orgKinds: Map<string, string>;
  /** reads one item afresh from the server (a document being opened: audited as a view) */
  readItem(item: Item): Promise<Resource>;
}

/** Not the same as "nothing recorded": the role does not see this section (or part of it). */
function NotForRole({
  label,
  roleName,
  shown,
}: {
  label: string;
  roleName?: string | undefined;
  shown: string[];
}) {
  const role = roleName ? `your role (${roleName})` : 'your role';
  if (shown.length)
    return (
      <p className="sc-notice" data-testid="part-for-role">
        Your role {roleName ? `(${roleName}) ` : ''}sees only part of this section: {shown.join(', ')}. The
        rest is not available to {role}; that does not mean there is none.
      </p>
    );
  return (
    <p data-testid="not-for-role">
      {label} {label.endsWith('s') ? 'are' : 'is'} not available to {role}. That does not mean this person has
      none: the record is shown to each role only in part.
    </p>
  );
}

export function RecordView({ record, sections, roleName, sources, orgKinds, readItem }: Props) {
  const [section, setSection] = useState<SectionId>(currentSection);
  const [filters, setFilters] = useState<Partial<Record<SectionId, FilterState>>>({});
  const heading = useRef<HTMLHeadingElement>(null);
  const moved = useRef(false);

  useEffect(() => {
    const onHash = () => {
      moved.current = true;
      setSection(currentSection());
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    // keyboard and screen-reader users land on the section they chose
    if (moved.current) heading.current?.focus();
  }, [section]);

  const bySection = useMemo(() => {
    const kind = (ods: string) => orgKinds.get(ods) ?? '';
    const items = originKinds(record.items, kind);
    const out = new Map<SectionId, Item[]>();
    for (const def of SECTIONS)
      if (def.match)
        out.set(
          def.id,
          items.filter((i) => def.match!(i, kind)),
        );
    return out;
  }, [record, orgKinds]);
  const access = useMemo(() => new Map(SECTIONS.map((s) => [s.id, sectionAccess(s, sections)])), [sections]);
  const objected = useMemo(
    () => new Set(record.notices.flatMap((n) => (n.organisation ? [n.organisation] : []))),
    [record],
  );

  const withheld = record.notices.some((n) => n.kind === 'withheld');
  const def = sectionDef(section)!;
  const items = bySection.get(section) ?? [];
  const f = filters[section] ?? NO_FILTERS;
  const setF = useCallback(
    (next: FilterState) => setFilters((all) => ({ ...all, [section]: next })),
    [section],
  );

  let content;
  if (withheld && section !== 'sources') {
    content = (
      <p>
        The person has objected to sharing their record, so nothing from it is shown. Their objection can be
        overridden only for safeguarding or public-interest reasons, by the record’s governance team.
      </p>
    );
  } else if (access.get(section)?.level === 'none')
    content = <NotForRole label={def.label} roleName={roleName} shown={[]} />;
  else if (section === 'summary')
    content = <Summary bySection={bySection} record={record} access={access} roleName={roleName} />;
  else if (section === 'sources')
    content = <SourcesPanel sources={sources} items={record.items} objected={objected} />;
  else if (section === 'medications') content = <Medications items={items} filters={f} onFilters={setF} />;
  else if (section === 'results')
    content = <Results items={items} byId={record.byId} filters={f} onFilters={setF} />;
  else if (section === 'encounters') content = <Timeline items={items} filters={f} onFilters={setF} />;
  else if (['documents', 'social-care', 'mental-health', 'out-of-hours'].includes(section))
    // letters and reports can be read wherever they are listed (a 111 call report, an assessment)
    content = (
      <Documents
        items={items}
        label={def.label}
        noun={section === 'documents' ? 'documents' : 'entries'}
        filters={f}
        onFilters={setF}
        read={readItem}
      />
    );
  else
    content = (
      <ItemSection
        items={items}
        label={def.label}
        filters={f}
        onFilters={setF}
        showKind={['problems', 'care-plans'].includes(section)}
      />
    );
  const part = access.get(section);
  if (part?.level === 'part' && !withheld)
    content = (
      <>
        <NotForRole label={def.label} roleName={roleName} shown={part.shown} />
        {content}
      </>
    );

  return (
    <div className="sc-layout">
      <nav className="sc-nav" aria-label="Sections of the record">
        <ul>
          {SECTIONS.map((s) => {
            const n = bySection.get(s.id)?.length;
            const none = access.get(s.id)?.level === 'none';
            return (
              <li key={s.id}>
                <a href={`#${s.id}`} aria-current={s.id === section ? 'page' : undefined}>
                  <span>{s.label}</span>
                  {none && !withheld && (
                    <span className="sc-nav__count sc-nav__count--none">not for your role</span>
                  )}
                  {n !== undefined && !none && !withheld && (
                    <span className="sc-nav__count">{n.toLocaleString('en-GB')}</span>
                  )}
                </a>
              </li>
            );
          })}
        </ul>
      </nav>
      <main id="main" className="sc-main" data-section={section}>
        <h2 ref={heading} tabIndex={-1}>
          {def.label}
        </h2>
        {content}
      </main>
    </div>
  );
}
