/**
 * Failure reports a person can act on: the findings grouped by kind (a few of each), and the region
 * they happened in, item by item, with why the oracle withholds what it withholds.
 */
import type { Finding } from './check.ts';
import { label, neverShared } from './oracle.ts';
import { describeReader, type World } from './region.ts';

export function describeWorld(world: World): string {
  const lines = [`region ${world.tag} (dates relative to ${new Date(world.now).toISOString()}):`];
  for (const p of world.persons) {
    const never = neverShared(p);
    lines.push(
      `  person ${p.n}: NHS ${p.nhs}, id ${p.id}, records at ${p.sources.join(', ')}` +
        `${p.namedGp ? `, GP named ${p.namedGp}` : ''}${p.restricted ? ', restricted' : ''}`,
    );
    for (const i of p.items) {
      const facts = [
        `from ${i.sourceOrg.ods}`,
        `status ${i.status}${i.deleted ? ' (entered in error)' : ''}`,
        i.when ? `on ${i.when.slice(0, 10)}` : 'no date',
        `codes ${i.codes.map((c) => `${c.system.replace(/^https?:\/\//, '')}|${c.code}${c.neverShared ? '*' : ''}`).join(' ')}`,
        ...(i.labels.length
          ? [`labels ${i.labels.map((l) => `${l.code}${l.neverShared ? '*' : ''}`).join(' ')}`]
          : []),
        ...(i.names ? [`names ${i.names}`] : []),
        ...i.links.map((l) => `${l.element} → ${label(p.items[l.to]!)}`),
        ...(i.revised ? [`sent again with ${i.revised} changed (as shown)`] : []),
      ];
      const why = never.get(i);
      lines.push(`    ${label(i)} ${i.id}: ${facts.join('; ')}${why ? `  [never shared: ${why}]` : ''}`);
    }
    for (const o of p.objections)
      lines.push(
        `    objection ${o.id}: ${o.scope} ${o.target ?? ''}${o.withdrawn ? ' (withdrawn)' : ''}` +
          o.overrides.map((v) => `; override for ${v.forOrg ?? 'all'}${v.ended ? ' (ended)' : ''}`).join(''),
      );
  }
  for (const r of world.readers) lines.push(`  ${describeReader(r)}`);
  return lines.join('\n');
}

/** Findings by kind and read path, with the first few of each. */
export function describeFindings(findings: Finding[], perKind = 3): string {
  const byKind = new Map<string, Finding[]>();
  for (const f of findings)
    byKind.set(`${f.kind} (${f.where})`, [...(byKind.get(`${f.kind} (${f.where})`) ?? []), f]);
  return [...byKind.entries()]
    .map(([kind, list]) =>
      [`${kind}: ${list.length}`, ...list.slice(0, perKind).map((f) => `  - ${f.detail}`)].join('\n'),
    )
    .join('\n');
}
