/** Reading a search parameter's values out of a resource: dotted paths, looking through arrays. */

export function valuesAt(resource: unknown, path: string): unknown[] {
  let current: unknown[] = [resource];
  for (const part of path.split('.')) {
    const next: unknown[] = [];
    for (const node of current) {
      if (node === null || typeof node !== 'object') continue;
      const v = (node as Record<string, unknown>)[part];
      if (Array.isArray(v)) next.push(...v);
      else if (v !== undefined && v !== null) next.push(v);
    }
    current = next;
  }
  return current;
}

/** The first path that has values (a type's dates: the first present wins). */
export function firstValuesAt(resource: unknown, paths: string[]): unknown[] {
  for (const p of paths) {
    const v = valuesAt(resource, p);
    if (v.length > 0) return v;
  }
  return [];
}

export function allValuesAt(resource: unknown, paths: string[]): unknown[] {
  return paths.flatMap((p) => valuesAt(resource, p));
}
