export function Header() {
  return (
    <header className="sc-header" role="banner">
      <span className="sc-header__service">Shared Care Record</span>
      <span className="sc-header__user">Read-only · for direct care · every access is recorded</span>
    </header>
  );
}
