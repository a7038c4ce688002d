import { dtypeFromOnnx } from '../dtype.js';
import { broadcastShapes, formatShape, isFloat } from '../shape.js';
import type { DType, OpDef, Value } from '../types.js';

function sameDtype(op: string, inputs: readonly Value[]): DType {
  const first = inputs[0];
  if (!first) throw new Error(`${op}: no inputs`);
  for (const v of inputs) {
    if (v.dtype !== first.dtype) {
      throw new Error(`${op}: dtype mismatch ${inputs.map((i) => `${i.name}:${i.dtype}`).join(', ')}`);
    }
  }
  return first.dtype;
}

function arity(op: string, inputs: readonly Value[], n: number): void {
  if (inputs.length !== n) throw new Error(`${op}: expected ${n} inputs, got ${inputs.length}`);
}

function unary(name: string, floatOnly: boolean): OpDef {
  return {
    name,
    infer(inputs) {
      arity(name, inputs, 1);
      const x = inputs[0] as Value;
      if (floatOnly && !isFloat(x.dtype)) throw new Error(`${name}: needs a float input, got ${x.dtype}`);
      return [{ dtype: x.dtype, shape: x.shape }];
    },
  };
}

function binary(name: string, outDtype?: DType): OpDef {
  return {
    name,
    infer(inputs) {
      arity(name, inputs, 2);
      const dtype = sameDtype(name, inputs);
      const shape = broadcastShapes(...inputs.map((v) => v.shape));
      return [{ dtype: outDtype ?? dtype, shape }];
    },
  };
}

export const elementwiseOps: OpDef[] = [
  ...['Add', 'Sub', 'Mul', 'Div', 'Pow'].map((n) => binary(n)),
  ...['Equal', 'Less', 'Greater'].map((n) => binary(n, 'bool')),
  ...['Neg', 'Abs', 'Identity'].map((n) => unary(n, false)),
  ...['Exp', 'Log', 'Sqrt', 'Reciprocal', 'Sigmoid', 'Tanh', 'Relu', 'Erf', 'Sin', 'Cos'].map((n) =>
    unary(n, true),
  ),
  // Identity whose gradient is zero: lets composites (logsumexp's max shift) stay exact under autodiff.
  { ...unary('StopGradient', false), onnxOp: 'Identity' },
  {
    name: 'Where',
    infer(inputs) {
      arity('Where', inputs, 3);
      const [c, x, y] = inputs as [Value, Value, Value];
      if (c.dtype !== 'bool') throw new Error(`Where: condition must be bool, got ${c.dtype}`);
      const dtype = sameDtype('Where', [x, y]);
      return [{ dtype, shape: broadcastShapes(c.shape, x.shape, y.shape) }];
    },
  },
  {
    name: 'Cast',
    attrTypes: { to: 'int' },
    infer(inputs, attrs) {
      arity('Cast', inputs, 1);
      return [{ dtype: dtypeFromOnnx(attrs['to'] as number), shape: (inputs[0] as Value).shape }];
    },
  },
  {
    name: 'Softmax',
    attrTypes: { axis: 'int' },
    infer: softmaxInfer('Softmax'),
  },
  {
    name: 'LogSoftmax',
    attrTypes: { axis: 'int' },
    infer: softmaxInfer('LogSoftmax'),
  },
];

function softmaxInfer(name: string): OpDef['infer'] {
  return (inputs) => {
    arity(name, inputs, 1);
    const x = inputs[0] as Value;
    if (!isFloat(x.dtype)) throw new Error(`${name}: needs float, got ${x.dtype}`);
    if (x.shape.length === 0) throw new Error(`${name}: scalar input ${formatShape(x.shape)}`);
    return [{ dtype: x.dtype, shape: x.shape }];
  };
}
