import onnxProto from 'onnx-proto';
import { ONNX_DTYPE } from './dtype.js';
import type { GraphCore } from './graph-core.js';
import { getOp } from './ops/registry.js';
import type { AttrType, AttrValue, Node, Tensor, Value } from './types.js';

const { onnx } = onnxProto;

export interface EmitOptions {
  name?: string;
  docString?: string;
  /**
   * 'initializers' (default): params with data are baked into the model (inference).
   * 'inputs': params become graph inputs, fed every run (training: one session serves every step).
   */
  params?: 'initializers' | 'inputs';
}

const ATTR_TYPE = onnx.AttributeProto.AttributeType;

function attribute(name: string, type: AttrType, v: AttrValue): onnxProto.onnx.IAttributeProto {
  switch (type) {
    case 'int':
      return { name, type: ATTR_TYPE.INT, i: v as number };
    case 'float':
      return { name, type: ATTR_TYPE.FLOAT, f: v as number };
    case 'string':
      return { name, type: ATTR_TYPE.STRING, s: Buffer.from(String(v)) };
    case 'ints':
      return { name, type: ATTR_TYPE.INTS, ints: [...(v as number[])] };
    case 'floats':
      return { name, type: ATTR_TYPE.FLOATS, floats: [...(v as number[])] };
    case 'strings':
      return { name, type: ATTR_TYPE.STRINGS, strings: (v as string[]).map((s) => Buffer.from(s)) };
  }
}

function nodeProto(node: Node, index: number): onnxProto.onnx.INodeProto {
  const def = getOp(node.op);
  const attribute_: onnxProto.onnx.IAttributeProto[] = [];
  for (const [k, v] of Object.entries(node.attrs)) {
    if (k.startsWith('_')) continue;
    const type = def.attrTypes?.[k];
    if (!type) throw new Error(`${node.op}: attribute ${k} has no declared type`);
    attribute_.push(attribute(k, type, v));
  }
  return {
    opType: def.onnxOp ?? def.name,
    domain: node.domain,
    name: `${node.op}_${index}`,
    input: [...node.inputs],
    output: [...node.outputs],
    attribute: attribute_,
  };
}

function valueInfo(v: Value): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ONNX_DTYPE[v.dtype],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function tensorProto(name: string, t: Tensor): onnxProto.onnx.ITensorProto {
  const d = t.data;
  return {
    name,
    dataType: ONNX_DTYPE[t.dtype],
    dims: [...t.dims],
    rawData: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
  };
}

/** Serialises a graph to ONNX ModelProto bytes (IR 8, opset 18, com.microsoft 1 when used). */
export function toOnnxModel(graph: GraphCore, opts: EmitOptions = {}): Uint8Array {
  if (graph.outputs.length === 0) throw new Error('toOnnxModel: the graph has no outputs');
  const paramsAsInputs = opts.params === 'inputs';
  const used = new Set(graph.nodes.flatMap((n) => n.inputs));
  for (const o of graph.outputs) used.add(o.name);
  const inputs = graph.inputs.map(valueInfo);
  const initializers: onnxProto.onnx.ITensorProto[] = [];
  for (const [name, t] of graph.constants) if (used.has(name)) initializers.push(tensorProto(name, t));
  for (const [name, p] of graph.params) {
    if (!used.has(name)) continue;
    if (paramsAsInputs) inputs.push(valueInfo(p.value));
    else if (p.data)
      initializers.push(
        tensorProto(name, { dtype: p.value.dtype, dims: p.value.shape as number[], data: p.data } as Tensor),
      );
    else throw new Error(`toOnnxModel: param ${name} has no data; emit with params: 'inputs' or give data`);
  }
  const model: onnxProto.onnx.IModelProto = {
    irVersion: 8,
    producerName: '@verdict/graph',
    producerVersion: '0.1.0',
    docString: opts.docString ?? '',
    opsetImport: [...graph.opsetImports].map(([domain, version]) => ({ domain, version })),
    graph: {
      name: opts.name ?? 'verdict',
      node: graph.nodes.map(nodeProto),
      input: inputs,
      output: graph.outputs.map(valueInfo),
      initializer: initializers,
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Decodes model bytes (for tests and tools that inspect emitted models). */
export function decodeOnnxModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
