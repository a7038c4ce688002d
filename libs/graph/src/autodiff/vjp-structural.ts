import { dimAdd, normalizeAxis } from '../shape.js';
import type { Dim, Value } from '../types.js';
import { constInts, dy0, type InputGrad, input, unbroadcast, type VjpRule, zeros } from './vjp-context.js';

// VJPs of shape/layout ops and of the gathers (scatter-add into zeros).

export const structuralVjps: Record<string, VjpRule> = {
  Reshape: (c) => {
    const x = input(c, 0);
    return [() => c.g.node1('Reshape', [dy0(c), c.g.shapeTensor(x.shape)], { _shape: x.shape }), undefined];
  },
  Transpose: (c) => {
    const perm = c.node.attrs['perm'] as readonly number[];
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => {
      inv[p] = i;
    });
    return [() => c.g.transpose(dy0(c), inv)];
  },
  Expand: (c) => [() => unbroadcast(c.g, dy0(c), input(c, 0).shape), undefined],
  // Squeeze/Unsqueeze axes are relative to the larger rank on both sides, so the same constant inverts them.
  Squeeze: (c) => [() => c.g.node1('Unsqueeze', [dy0(c), input(c, 1)]), undefined],
  Unsqueeze: (c) => [() => c.g.node1('Squeeze', [dy0(c), input(c, 1)]), undefined],
  Trilu: (c) => [() => c.g.node1('Trilu', [dy0(c), input(c, 1)], c.node.attrs), undefined],
  /**
   * Scatter dy into zeros at the positions the forward Slice picked. The positions come from
   * slicing an arange the same way, so ORT's own start/end clamping and steps apply unchanged.
   */
  Slice: (c) => {
    const { g } = c;
    const x = input(c, 0);
    const axes = constInts(c, 3, x.shape.length);
    if (axes.length !== 1) throw new Error('Slice VJP: expected exactly one axis');
    const axis = axes[0] as number;
    return [
      () => {
        const dy = dy0(c);
        const positions = g.node1(
          'Slice',
          [g.arange(x.shape[axis] as Dim), input(c, 1), input(c, 2), g.ints([0]), input(c, 4)],
          { _shape: [dy.shape[axis] as Dim] },
        );
        const others = [...Array(x.shape.length).keys()].filter((i) => i !== axis);
        const idx = g.expand(others.length ? g.unsqueeze(positions, others) : positions, dy.shape);
        return g.node1('ScatterElements', [zeros(g, x), idx, dy], { axis });
      },
      undefined,
      undefined,
      undefined,
      undefined,
    ];
  },
  Concat: (c) => {
    const { g } = c;
    const rank = input(c, 0).shape.length;
    const axis = normalizeAxis(c.node.attrs['axis'] as number, rank);
    const sizes = c.inputs.map((v) => v.shape[axis] as Dim);
    let pieces: Value[] | undefined;
    // One Split when sizes are static; otherwise a Slice per input with run-time offsets.
    const piecesOf = (): Value[] => {
      if (pieces) return pieces;
      const dy = dy0(c);
      if (sizes.every((s) => typeof s === 'number')) pieces = g.split(dy, sizes as number[], axis);
      else {
        let offset: Dim = 0;
        pieces = sizes.map((s) => {
          const end = dimAdd(offset, s);
          const piece = g.slice(dy, { axis, start: offset, end });
          offset = end;
          return piece;
        });
      }
      return pieces;
    };
    return c.inputs.map(
      (_, i): InputGrad =>
        () =>
          piecesOf()[i] as Value,
    );
  },
  Split: (c) => {
    const axis = c.node.attrs['axis'] as number;
    const parts = c.outputs.map((o, i) => c.dys[i] ?? zeros(c.g, o));
    return [() => c.g.concat(parts, axis), undefined];
  },
  /** Embedding-style gradient: ScatterND add of dy rows into zeros of the table (duplicate ids accumulate). */
  Gather: (c) => {
    const { g } = c;
    const [data, idx] = [input(c, 0), input(c, 1)];
    const r = data.shape.length;
    const axis = normalizeAxis((c.node.attrs['axis'] as number | undefined) ?? 0, r);
    return [
      () => {
        const dy = dy0(c);
        const ids = g.unsqueeze(idx, -1);
        if (axis === 0) return g.node1('ScatterND', [zeros(g, data), ids, dy], { reduction: 'add' });
        // Move the gathered axis to the front, scatter there, and move it back.
        const q = idx.shape.length;
        const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
        const dyT = g.transpose(dy, [
          ...range(axis, axis + q),
          ...range(0, axis),
          ...range(axis + q, dy.shape.length),
        ]);
        const front = [axis, ...range(0, axis), ...range(axis + 1, r)];
        const table = zeros(
          g,
          data,
          front.map((i) => data.shape[i] as Dim),
        );
        const scattered = g.node1('ScatterND', [table, ids, dyT], { reduction: 'add' });
        const back = new Array<number>(r);
        front.forEach((p, i) => {
          back[p] = i;
        });
        return g.transpose(scattered, back);
      },
      undefined,
    ];
  },
  GatherElements: (c) => {
    const [data, idx] = [input(c, 0), input(c, 1)];
    const axis = (c.node.attrs['axis'] as number | undefined) ?? 0;
    return [
      () =>
        c.g.node1('ScatterElements', [zeros(c.g, data), idx, dy0(c)], {
          axis: normalizeAxis(axis, data.shape.length),
          reduction: 'add',
        }),
      undefined,
    ];
  },
  // ScatterElements with reduction add: data passes dy through, updates read it back at the indices.
  ScatterElements: (c) => {
    const reduction = (c.node.attrs['reduction'] as string | undefined) ?? 'none';
    if (reduction !== 'add') throw new Error(`ScatterElements VJP: only reduction 'add' (got ${reduction})`);
    const axis = (c.node.attrs['axis'] as number | undefined) ?? 0;
    return [() => dy0(c), undefined, () => c.g.gatherElements(dy0(c), input(c, 1), axis)];
  },
  Sum: (c) =>
    c.inputs.map(
      (x): InputGrad =>
        () =>
          unbroadcast(c.g, dy0(c), x.shape),
    ),
};
