/**
 * Normalisation of what sources write in names, dates and addresses, before anything is compared:
 * case, accents, punctuation and spacing go; double-barrelled and hyphenated names become parts.
 */

/** "Zoë O'Brien-Smyth " → "zoe obrien smyth": lower case, no accents, no punctuation. */
export function normaliseText(raw: string | undefined | null): string {
  if (!raw) return '';
  return raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/['’`.]/g, '')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** The parts of a name: "Smith-Jones" and "Smith Jones" are both ["smith", "jones"]. */
export function nameParts(raw: string | undefined | null): string[] {
  const t = normaliseText(raw);
  return t ? t.split(' ') : [];
}

/** "nd1 2ab" → "ND1 2AB"; anything that is not a UK postcode shape is kept, compacted. */
export function normalisePostcode(raw: string | undefined | null): string {
  const c = (raw ?? '').toUpperCase().replace(/[^A-Z0-9]/g, '');
  if (c.length < 5 || c.length > 7) return c;
  return `${c.slice(0, -3)} ${c.slice(-3)}`;
}

/** A date as YYYY-MM-DD, or '' when it is not one (partial dates stay partial and compare as missing). */
export function normaliseDate(raw: string | undefined | null): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(raw ?? '');
  return m ? `${m[1]}-${m[2]}-${m[3]}` : '';
}

/** Digits only: "07700 900 123" and "+447700900123" compare on their last ten digits. */
export function normalisePhone(raw: string | undefined | null): string {
  const d = (raw ?? '').replace(/\D/g, '');
  return d.length > 10 ? d.slice(-10) : d;
}

/** The first line of an address, normalised, with common street words shortened. */
const STREET_WORDS: Record<string, string> = {
  street: 'st',
  road: 'rd',
  avenue: 'ave',
  lane: 'ln',
  drive: 'dr',
  close: 'cl',
  court: 'ct',
  crescent: 'cres',
  terrace: 'ter',
  gardens: 'gdns',
  place: 'pl',
  square: 'sq',
};

export function normaliseAddressLine(raw: string | undefined | null): string {
  return normaliseText(raw)
    .split(' ')
    .filter(Boolean)
    .map((w) => STREET_WORDS[w] ?? w)
    .join(' ');
}
