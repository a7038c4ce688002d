/** Parameters, gradients and optimizer moments keyed by Hugging Face tensor names. */
export type ParamMap = Map<string, Float32Array>;

/** Throws unless `other` has exactly the names and element counts of `reference`. */
export function assertSameLayout(reference: ParamMap, other: ParamMap, what: string): void {
  const problems: string[] = [];
  for (const [name, tensor] of reference) {
    const o = other.get(name);
    if (!o) problems.push(`missing '${name}'`);
    else if (o.length !== tensor.length)
      problems.push(`'${name}' has ${o.length} elements, expected ${tensor.length}`);
  }
  for (const name of other.keys()) if (!reference.has(name)) problems.push(`unexpected '${name}'`);
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).join('; ');
    throw new RangeError(`${what}: ${shown}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`);
  }
}

/** Deep copy (new Float32Arrays). */
export function cloneParamMap(source: ParamMap): ParamMap {
  return new Map([...source].map(([name, t]) => [name, t.slice()]));
}
