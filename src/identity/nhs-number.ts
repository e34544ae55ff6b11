/**
 * NHS number rules. An NHS number is ten digits; the tenth is a modulus-11 check digit over the
 * first nine (weights 10..2). A computed check of 10 means the number can never be valid.
 * Hand-written because it is eleven lines and no maintained npm package covers it better.
 */

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';

/** Returns the check digit for nine digits, or undefined when no valid number can end them. */
export function nhsCheckDigit(firstNine: string): number | undefined {
  if (!/^\d{9}$/.test(firstNine)) return undefined;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(firstNine[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  if (check === 10) return undefined;
  return check;
}

/** Strips the spaces and dashes people write NHS numbers with ("999 123 4567"). */
export function normaliseNhsNumber(raw: string): string {
  return raw.replace(/[\s-]/g, '');
}

export function isValidNhsNumber(raw: string | undefined | null): boolean {
  if (!raw) return false;
  const n = normaliseNhsNumber(raw);
  if (!/^\d{10}$/.test(n)) return false;
  return nhsCheckDigit(n.slice(0, 9)) === Number(n[9]);
}

/** "9991234567" → "999 123 4567", the 3-3-4 form clinicians read. */
export function formatNhsNumber(n: string): string {
  const d = normaliseNhsNumber(n);
  return `${d.slice(0, 3)} ${d.slice(3, 6)} ${d.slice(6)}`;
}
