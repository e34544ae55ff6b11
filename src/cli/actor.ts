/**
 * Who is acting, for every command that changes governance data (organisations, sources,
 * objections, overrides, the opt-out register, retention runs, alert reviews). The audit trail, the
 * notice sent to a person whose objection is overridden, and their subject-access report name this
 * person and organisation, so the command refuses to run without them rather than writing "CLI".
 */
import type { Command } from 'commander';
import { SharedcareError } from '../errors/index.ts';

export interface CliActor {
  /** the user id of the person running the command, as your identity provider knows them */
  by: string;
  /** the ODS code of the organisation they act for */
  org: string;
}

/** Adds `--by USER` and the acting organisation's flag (`--org`, or another name where `--org` is taken). */
export function actorOptions(cmd: Command, orgFlag = '--org'): Command {
  return cmd
    .option('--by <user>', 'who is doing this: your user id (named in the audit trail and in notices)')
    .option(`${orgFlag} <ods>`, 'the ODS code of the organisation you act for');
}

/** The actor from the options, or a refusal saying exactly what to pass. */
export function requireActor(o: { by?: string; org?: string }, orgFlag = '--org'): CliActor {
  const missing = [
    !o.by && '--by <your user id>',
    !o.org && `${orgFlag} <your organisation's ODS code>`,
  ].filter(Boolean);
  if (missing.length > 0)
    throw new SharedcareError(
      'invalid-request',
      `this changes governance data, so say who is doing it: pass ${missing.join(' and ')} (the audit trail, and any notice to the person, name them)`,
    );
  if (!/^\S{1,100}$/.test(o.by!))
    throw new SharedcareError('invalid-request', '--by is a user id: up to 100 characters, no spaces');
  if (!/^[A-Z0-9]{3,10}$/.test(o.org!))
    throw new SharedcareError(
      'invalid-request',
      `${orgFlag} is an ODS code: 3 to 10 capital letters or digits`,
    );
  return { by: o.by!, org: o.org! };
}
