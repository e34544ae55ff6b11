/** The service, and who is signed in: user, role and organisation (from the server's session context). */
import type { ViewerContext } from '../session.ts';

export function Header({ context }: { context?: ViewerContext | undefined }) {
  return (
    <header className="sc-header" role="banner">
      <span className="sc-header__service">Shared Care Record</span>
      {context && (
        <span className="sc-header__who" data-testid="signed-in">
          <span className="sc-visually-hidden">Signed in as </span>
          <strong>{context.user.name ?? context.user.id}</strong>
          {' · '}
          {context.role.name}
          {' · '}
          {context.organisation.name ?? context.organisation.ods}
        </span>
      )}
      <span className="sc-header__user">Read-only · for direct care · every access is recorded</span>
    </header>
  );
}
