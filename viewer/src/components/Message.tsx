import type { ReactNode } from 'react';

/** A full-page message (loading, no session, errors), in the main landmark. */
export function Message({
  title,
  children,
  status,
}: {
  title: string;
  children: ReactNode;
  status?: boolean;
}) {
  return (
    <main id="main" className="sc-layout" style={{ gridTemplateColumns: '1fr' }}>
      <div className="sc-main" data-testid={status ? 'loading' : 'message'}>
        <h1 className="nhsuk-heading-m">{title}</h1>
        <div role={status ? 'status' : undefined}>{children}</div>
      </div>
    </main>
  );
}
