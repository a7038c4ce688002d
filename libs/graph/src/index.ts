export { type GradOptions, type GradResult, grad } from './autodiff/grad.js';
export {
  analyticGrads,
  type GradcheckReport,
  type GradcheckSpec,
  gradcheck,
  makeGradcheckData,
  type TensorReport,
} from './autodiff/gradcheck.js';
export { type ReplayOptions, replayGraph } from './autodiff/replay-graph.js';
export { NON_DIFFERENTIABLE, VJP_RULES } from './autodiff/vjp-rules.js';
export {
  allocTypedArray,
  dtypeFromOnnx,
  dtypeOfArray,
  ONNX_DTYPE,
  toNumbers,
  typedArrayFrom,
} from './dtype.js';
export {
  decodeOnnxModel,
  type EmitOptions,
  initializerBytes,
  PROTOBUF_LIMIT_BYTES,
  toOnnxModel,
} from './emit.js';
export {
  type ExternalDataFile,
  type ExternalDataFileOptions,
  type ExternalDataOptions,
  openExternalDataFile,
  type WriteOnnxModelOptions,
  type WrittenOnnxModel,
  writeOnnxModel,
} from './external-data.js';
export { createGraph, GraphBuilder, type Operand, type SliceSpec } from './graph-builder.js';
export { ABSENT_INPUT, GraphCore, type Param } from './graph-core.js';
export type { AttentionBiasOptions, NormOptions, RotaryOptions } from './nn.js';
export { getOp, OPS, registerOp } from './ops/registry.js';
export {
  describeProviderError,
  EXECUTION_PROVIDER_FALLBACKS,
  EXECUTION_PROVIDERS,
  type ExecutionProvider,
  type ExecutionProviderFallback,
  type ExecutionProviderInfo,
  ExecutionProviderUnavailableError,
  formatExecutionProvider,
  type ProviderProbe,
  probeExecutionProvider,
  type ResolveProviderNaming,
  type ResolveProviderOptions,
  resolveExecutionProvider,
} from './runtime/execution-provider.js';
export {
  createSession,
  type OptimizationLevel,
  type RunOptions,
  type Session,
  type SessionOptions,
} from './runtime/session.js';
export {
  createSessionPool,
  type LoadOptions,
  type PooledSession,
  type PoolRunOptions,
  type SessionPool,
  type SessionPoolOptions,
} from './runtime/session-pool.js';
export { broadcastShapes, dimsEqual, numElements, shapesEqual } from './shape.js';
export { cloneTensor, createTensor, isTensor } from './tensor.js';
export type {
  AnyTypedArray,
  Attrs,
  AttrType,
  AttrValue,
  Dim,
  DType,
  GraphView,
  Node,
  OpDef,
  Shape,
  Tensor,
  TypedArrayFor,
  Value,
  ValueType,
} from './types.js';
