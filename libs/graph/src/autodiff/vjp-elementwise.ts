import { toNumbers } from '../dtype.js';
import { isFloat } from '../shape.js';
import type { Value } from '../types.js';
import {
  dy0,
  type InputGrad,
  input,
  output,
  unbroadcast,
  type VjpContext,
  type VjpRule,
} from './vjp-context.js';

// VJPs of elementwise ops. Binary ops broadcast, so every input gradient is unbroadcast to its input's shape.

function binary(c: VjpContext, da: (dy: Value) => Value, db: (dy: Value) => Value): InputGrad[] {
  const dy = dy0(c);
  const [a, b] = [input(c, 0), input(c, 1)];
  return [() => unbroadcast(c.g, da(dy), a.shape), () => unbroadcast(c.g, db(dy), b.shape)];
}

function unary(f: (c: VjpContext, dy: Value, x: Value, y: Value) => Value): VjpRule {
  return (c) => [() => f(c, dy0(c), input(c, 0), output(c))];
}

/** The value of a constant scalar input, if it is one (Pow's exponent). */
function constantScalar(c: VjpContext, i: number): number | undefined {
  const t = c.g.constantData(input(c, i).name);
  if (t?.data.length !== 1) return undefined;
  return toNumbers(t.data)[0];
}

export const elementwiseVjps: Record<string, VjpRule> = {
  Add: (c) =>
    binary(
      c,
      (dy) => dy,
      (dy) => dy,
    ),
  Sub: (c) =>
    binary(
      c,
      (dy) => dy,
      (dy) => c.g.neg(dy),
    ),
  Mul: (c) =>
    binary(
      c,
      (dy) => c.g.mul(dy, input(c, 1)),
      (dy) => c.g.mul(dy, input(c, 0)),
    ),
  // d(a/b)/db = −y/b, which reuses the forward output.
  Div: (c) =>
    binary(
      c,
      (dy) => c.g.div(dy, input(c, 1)),
      (dy) => c.g.neg(c.g.div(c.g.mul(dy, output(c)), input(c, 1))),
    ),
  Pow: (c) => {
    const { g } = c;
    const [a, b] = [input(c, 0), input(c, 1)];
    const p = constantScalar(c, 1);
    return binary(
      c,
      (dy) => {
        if (p === 2) return g.mul(dy, g.mul(a, 2));
        if (p === 1) return dy;
        const slope = p === undefined ? g.mul(b, g.pow(a, g.sub(b, 1))) : g.mul(g.pow(a, p - 1), p);
        return g.mul(dy, slope);
      },
      (dy) => g.mul(g.mul(dy, output(c)), g.log(a)),
    );
  },
  Neg: unary((c, dy) => c.g.neg(dy)),
  Identity: unary((_c, dy) => dy),
  Abs: unary((c, dy, x) => c.g.where(c.g.less(x, 0), c.g.neg(dy), dy)),
  Exp: unary((c, dy, _x, y) => c.g.mul(dy, y)),
  Log: unary((c, dy, x) => c.g.div(dy, x)),
  Sqrt: unary((c, dy, _x, y) => c.g.div(dy, c.g.mul(y, 2))),
  Reciprocal: unary((c, dy, _x, y) => c.g.neg(c.g.mul(dy, c.g.mul(y, y)))),
  Sigmoid: unary((c, dy, _x, y) => c.g.mul(dy, c.g.mul(y, c.g.sub(1, y)))),
  Tanh: unary((c, dy, _x, y) => c.g.mul(dy, c.g.sub(1, c.g.mul(y, y)))),
  Relu: unary((c, dy, x) => c.g.where(c.g.greater(x, 0), dy, 0)),
  Erf: unary((c, dy, x) => c.g.mul(dy, c.g.mul(c.g.exp(c.g.neg(c.g.mul(x, x))), 2 / Math.sqrt(Math.PI)))),
  Sin: unary((c, dy, x) => c.g.mul(dy, c.g.cos(x))),
  Cos: unary((c, dy, x) => c.g.neg(c.g.mul(dy, c.g.sin(x)))),
  // Only float→float casts carry a gradient (the engine never asks for integer inputs).
  Cast: (c) => [isFloat(input(c, 0).dtype) ? () => c.g.cast(dy0(c), input(c, 0).dtype) : undefined],
  Where: (c) => {
    const dy = dy0(c);
    const [cond, x, y] = [input(c, 0), input(c, 1), input(c, 2)];
    return [
      undefined,
      () => unbroadcast(c.g, c.g.where(cond, dy, 0), x.shape),
      () => unbroadcast(c.g, c.g.where(cond, 0, dy), y.shape),
    ];
  },
  // y·(dy − Σ dy·y) along the softmax axis.
  Softmax: (c) => {
    const { g } = c;
    const dy = dy0(c);
    const y = output(c);
    const axis = c.node.attrs['axis'] as number;
    return [() => g.mul(y, g.sub(dy, g.sum(g.mul(dy, y), axis, true)))];
  },
  // dy − softmax·Σ dy, with softmax = exp(y).
  LogSoftmax: (c) => {
    const { g } = c;
    const dy = dy0(c);
    const axis = c.node.attrs['axis'] as number;
    return [() => g.sub(dy, g.mul(g.exp(output(c)), g.sum(dy, axis, true)))];
  },
};
