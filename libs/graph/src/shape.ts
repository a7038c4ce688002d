import type { Dim, DType, Shape } from './types.js';

/** Splits `s` on `sep` at parenthesis depth 0. */
function splitTop(s: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === sep && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

function wrap(d: Dim): string {
  const s = String(d);
  return typeof d === 'string' && (s.includes('+') || s.includes('*')) ? `(${s})` : s;
}

/** Symbolic product form: coefficient × sorted symbol list. */
interface DimProduct {
  coef: number;
  syms: string[];
}

function unwrap(s: string): string {
  return s.startsWith('(') && s.endsWith(')') && splitTop(s.slice(1, -1), ')').length === 1
    ? s.slice(1, -1)
    : s;
}

export function toProduct(d: Dim): DimProduct {
  if (typeof d === 'number') return { coef: d, syms: [] };
  const factors = splitTop(d, '*');
  let coef = 1;
  const syms: string[] = [];
  for (const f of factors) {
    const n = Number(f);
    if (f !== '' && Number.isInteger(n)) coef *= n;
    else if (factors.length > 1) syms.push(...toProduct(unwrap(f)).syms);
    else syms.push(f);
  }
  return { coef, syms: syms.sort() };
}

export function fromProduct(p: DimProduct): Dim {
  if (p.syms.length === 0) return p.coef;
  if (p.coef === 1 && p.syms.length === 1) return p.syms[0] as string;
  const sym = p.syms.map((s) => (splitTop(s, '+').length > 1 ? `(${s})` : s)).join('*');
  return p.coef === 1 ? sym : `${p.coef}*${sym}`;
}

export function dimMul(a: Dim, b: Dim): Dim {
  const pa = toProduct(a);
  const pb = toProduct(b);
  return fromProduct({ coef: pa.coef * pb.coef, syms: [...pa.syms, ...pb.syms].sort() });
}

/** a / b when it divides exactly (symbols cancel by name), else undefined. */
export function dimDiv(a: Dim, b: Dim): Dim | undefined {
  const pa = toProduct(a);
  const pb = toProduct(b);
  if (pb.coef === 0 || pa.coef % pb.coef !== 0) return undefined;
  const rest = [...pa.syms];
  for (const s of pb.syms) {
    const i = rest.indexOf(s);
    if (i < 0) return undefined;
    rest.splice(i, 1);
  }
  return fromProduct({ coef: pa.coef / pb.coef, syms: rest });
}

export function dimAdd(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a === 0) return b;
  if (b === 0) return a;
  return `${wrap(a)}+${wrap(b)}`;
}

export function dimsEqual(a: Dim, b: Dim): boolean {
  if (a === b) return true;
  if (typeof a === 'number' || typeof b === 'number') return false;
  const pa = toProduct(a);
  const pb = toProduct(b);
  return pa.coef === pb.coef && pa.syms.join('\u0000') === pb.syms.join('\u0000');
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => dimsEqual(d, b[i] as Dim));
}

export function formatShape(s: Shape): string {
  return `[${s.join(', ')}]`;
}

/** Numpy broadcasting; symbolic dims must match by name (or be broadcast against 1). */
export function broadcastShapes(...shapes: Shape[]): Dim[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const k = s.length - rank + i;
      if (k < 0) continue;
      const e = s[k] as Dim;
      if (e === 1) continue;
      if (d === 1) d = e;
      else if (!dimsEqual(d, e)) {
        throw new Error(
          `cannot broadcast shapes ${shapes.map(formatShape).join(' and ')} (axis ${i}: ${d} vs ${e})`,
        );
      }
    }
    out.push(d);
  }
  return out;
}

export function normalizeAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

export function numElements(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

export function isInteger(dtype: DType): boolean {
  return dtype === 'int64' || dtype === 'int32';
}
