/** Element types the builder knows. `bool` tensors carry one byte per element (Uint8Array). */
export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool';

/** A dimension: a fixed size, or a symbolic name ('batch', 'seq', 'past', or a derived 'past+seq'). */
export type Dim = number | string;
export type Shape = readonly Dim[];

export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int64'
      ? BigInt64Array
      : D extends 'int32'
        ? Int32Array
        : Uint8Array;

export type AnyTypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

/**
 * The package's own tensor type: nothing outside `@verdict/graph` sees ORT types.
 * `dims` are concrete sizes (row-major, `data.length === product(dims)`).
 */
export interface Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly dims: readonly number[];
  readonly data: TypedArrayFor<D>;
}

/** A value in a graph (an edge): what shape inference knows about it. */
export interface Value {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
}

/** Attribute values of a node; their ONNX types come from the op definition's `attrTypes`. */
/** Attribute names starting with '_' are builder metadata (e.g. a symbolic output shape) and are not emitted. */
export type AttrValue = number | string | readonly number[] | readonly string[] | readonly Dim[];
export type Attrs = Readonly<Record<string, AttrValue>>;

/**
 * One node of the graph: `op` names an op definition (see ops/registry.ts), which knows how
 * to infer its outputs and how to emit it as ONNX. Kept plain so a reverse sweep can walk
 * `graph.nodes` backwards and look up a per-op VJP rule by `op`.
 */
export interface Node {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Attrs;
  /** '' for the default ONNX domain, 'com.microsoft' for contrib ops. */
  readonly domain: string;
}

export type AttrType = 'int' | 'float' | 'string' | 'ints' | 'floats' | 'strings';

/** Inferred type of one output. */
export interface ValueType {
  readonly dtype: DType;
  readonly shape: Shape;
}

/** Read-only view of a graph handed to op definitions (to read constant inputs such as axes). */
export interface GraphView {
  value(name: string): Value;
  /** Data of a constant/initializer value, or undefined when the value is computed at run time. */
  constantData(name: string): Tensor | undefined;
}

/** One op, defined in one place: type inference and ONNX emission (a `vjp` can be added later). */
export interface OpDef {
  /** Builder op name, unique; also the node's `op`. */
  readonly name: string;
  /** ONNX op_type emitted (defaults to `name`). */
  readonly onnxOp?: string;
  readonly domain?: string;
  readonly attrTypes?: Readonly<Record<string, AttrType>>;
  /** Output types from input types and attributes; throws on a mismatch. */
  infer(inputs: readonly Value[], attrs: Attrs, graph: GraphView): ValueType[];
}
