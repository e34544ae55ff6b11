/**
 * Secrets in production: each must be present, strong (at least 32 bytes of entropy, estimated),
 * and not published. "Published" means it appears anywhere in the project's own files (source,
 * tests, README, docs, config: in a git checkout, every tracked file), which anyone can read, or it
 * contains one of the defaults the code builds (the registry below, for values no file spells out
 * whole). The operator's own files (config file, data folder, key file) are not read. The project is read once per process,
 * at the first production start-up check.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';

/** The development issuer's default secret: public, so never trusted in production. */
export const DEV_SECRET_DEFAULT = 'sharedcare-development-only-secret-do-not-use-in-production';
/** The development session secret (built, so it appears in no file whole). */
export const DEV_SESSION_SECRET_DEFAULT = `${DEV_SECRET_DEFAULT}-session`;
/** Every secret value the code itself supplies. A secret containing one of them is refused too. */
export const BUILT_IN_SECRETS: readonly string[] = [DEV_SECRET_DEFAULT, DEV_SESSION_SECRET_DEFAULT];

export const MIN_SECRET_BITS = 256;
const HOW = 'generate one with `openssl rand -base64 32`';

/** A secret the configuration holds, named as the operator sets it. */
export interface NamedSecret {
  name: string;
  value: string | undefined;
  /** absent is a problem (otherwise absent means that way of authenticating is not used) */
  required: boolean;
}

/**
 * An upper estimate of a string's entropy in bits: its length times the bits per character of
 * the smallest alphabet it fits (hex 4, base64 6, else by character classes), and never more than
 * its deflated size, so a repeated pattern or a phrase of common words scores low.
 */
export function estimateEntropyBits(value: string): number {
  const chars = [...value];
  if (chars.length === 0) return 0;
  let perChar: number;
  if (/^[0-9a-f]+$/i.test(value)) perChar = 4;
  else if (/^[A-Za-z0-9+/_=-]+$/.test(value)) perChar = 6;
  else {
    let alphabet = 0;
    if (/[a-z]/.test(value)) alphabet += 26;
    if (/[A-Z]/.test(value)) alphabet += 26;
    if (/[0-9]/.test(value)) alphabet += 10;
    if (/[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/.test(value)) alphabet += 33;
    if (/[^\x20-\x7e]/.test(value)) alphabet += 100;
    perChar = Math.log2(Math.max(alphabet, 2));
  }
  return Math.min(chars.length * perChar, deflateRawSync(Buffer.from(value, 'utf8')).length * 8);
}

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'coverage', 'out']);
const MAX_FILE_BYTES = 4 * 1024 * 1024;

interface ProjectText {
  /** absolute path */
  full: string;
  /** relative to the project */
  file: string;
  text: string;
}

function readText(root: string, full: string, found: ProjectText[]): void {
  try {
    const stat = statSync(full);
    if (!stat.isFile() || stat.size > MAX_FILE_BYTES) return;
    const bytes = readFileSync(full);
    if (!bytes.subarray(0, 8192).includes(0))
      found.push({ full, file: path.relative(root, full), text: bytes.toString('utf8') });
  } catch {
    /* gone or unreadable: nothing published there */
  }
}

/** In a git checkout, the files git tracks (published with the repository); undefined otherwise. */
function trackedFiles(root: string): string[] | undefined {
  try {
    const out = execFileSync('git', ['ls-files', '-z'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
    return out.toString('utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/**
 * The project's published text: in a git checkout the tracked files (a local, ignored `.env` or
 * config file is not published), otherwise every file but dependencies, builds and the data folder.
 */
function readProject(root: string): ProjectText[] {
  const found: ProjectText[] = [];
  const tracked = trackedFiles(root);
  if (tracked) {
    for (const file of tracked) readText(root, path.join(root, file), found);
    return found;
  }
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const full = path.join(dir, name);
      if (SKIP_DIRS.has(name) || name.startsWith('.sharedcare')) continue;
      let isDir = false;
      try {
        isDir = statSync(full).isDirectory();
      } catch {
        continue;
      }
      if (isDir) walk(full);
      else readText(root, full, found);
    }
  };
  walk(root);
  return found;
}

const cache = new Map<string, ProjectText[]>();

/** Where a value is published, if it is: a file of the project, or "the built-in defaults". */
export function wherePublished(value: string, root: string, skip: string[] = []): string | undefined {
  if (BUILT_IN_SECRETS.some((d) => value.includes(d))) return 'the built-in development defaults';
  let texts = cache.get(root);
  if (!texts) cache.set(root, (texts = readProject(root)));
  const own = (full: string) => skip.some((s) => full === s || full.startsWith(`${s}${path.sep}`));
  return texts.find((t) => !own(t.full) && t.text.includes(value))?.file;
}

/** Every problem with the secrets, one line per secret, naming it and saying what to do. */
export function secretProblems(secrets: NamedSecret[], root: string, skip: string[] = []): string[] {
  const problems: string[] = [];
  for (const { name, value, required } of secrets) {
    if (value === undefined || value === '') {
      if (required) problems.push(`${name} is not set: ${HOW}`);
      continue;
    }
    const reasons: string[] = [];
    const bytes = Buffer.byteLength(value, 'utf8');
    const bits = Math.floor(estimateEntropyBits(value));
    if (bytes < 32 || bits < MIN_SECRET_BITS)
      reasons.push(
        `too weak (${bytes} bytes, about ${bits} bits of entropy; at least 32 bytes and ${MIN_SECRET_BITS} bits are needed)`,
      );
    const where = bytes >= 8 ? wherePublished(value, root, skip) : undefined;
    if (where)
      reasons.push(`published (it appears in ${where}), so anyone with the source can forge with it`);
    if (reasons.length > 0) problems.push(`${name} is ${reasons.join(' and ')}: ${HOW}`);
  }
  return problems;
}

/** The private part of a signing key file (a JWK's `d`), when the file exists and holds one. */
function privateKeyOf(file: string): string | undefined {
  try {
    const jwk = JSON.parse(readFileSync(file, 'utf8')) as { d?: unknown };
    return typeof jwk.d === 'string' ? jwk.d : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every secret a production server holds. Database passwords and client secrets are optional
 * (certificates or public clients need none) but, when given, must pass the same test.
 */
export function productionSecrets(c: {
  sessionSecret: string;
  databaseUrl: string | undefined;
  identityProviders: { issuer: string; signIn?: { clientSecret?: string | undefined } | undefined }[];
  audit: { signingKeyFile: string };
}): NamedSecret[] {
  const secrets: NamedSecret[] = [
    { name: 'SHAREDCARE_SESSION_SECRET', value: c.sessionSecret, required: true },
  ];
  if (c.databaseUrl) {
    let password: string | undefined;
    try {
      password = decodeURIComponent(new URL(c.databaseUrl).password);
    } catch {
      password = undefined;
    }
    secrets.push({ name: 'the password in DATABASE_URL', value: password, required: false });
  }
  c.identityProviders.forEach((p, i) =>
    secrets.push({
      name: `identityProviders[${i}].signIn.clientSecret (${p.issuer})`,
      value: p.signIn?.clientSecret,
      required: false,
    }),
  );
  const key = privateKeyOf(c.audit.signingKeyFile);
  if (key)
    secrets.push({
      name: `the audit signing key in ${c.audit.signingKeyFile} (SHAREDCARE_AUDIT_KEY_FILE)`,
      value: key,
      required: false,
    });
  return secrets;
}
