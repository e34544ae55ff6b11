/** One polite live region for the whole app (rendered by App): short confirmations for screen readers. */
export const ANNOUNCER_ID = 'sc-announcer';

export function announce(text: string): void {
  const el = document.getElementById(ANNOUNCER_ID);
  if (!el) return;
  el.textContent = '';
  // a fresh text node after a tick, so the same message twice is announced twice
  setTimeout(() => (el.textContent = text), 50);
}
