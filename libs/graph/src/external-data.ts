import { closeSync, openSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import onnxProto from 'onnx-proto';
import { ONNX_DTYPE } from './dtype.js';
import { buildModelProto, type EmitOptions, encodeModelProto, graphInitializers } from './emit.js';
import type { GraphCore } from './graph-core.js';
import type { Tensor } from './types.js';

const { onnx } = onnxProto;

/**
 * ONNX external data (TensorProto.data_location = EXTERNAL, external_data `location`, `offset`,
 * `length`): initializers live in a side file next to the model, so a model's weights are not
 * bounded by protobuf's 2 GiB limit on one message. ONNX Runtime resolves `location` relative to
 * the model file's folder, so such a model loads from its path (createSession / pool.load with a
 * path), never from bytes.
 */

/** A side file initializers are appended to; one file can serve several models in the same folder. */
export interface ExternalDataFile {
  /** Absolute path of the file. */
  readonly path: string;
  /** Bytes written so far (the end of the last tensor). */
  readonly bytes: number;
  /**
   * Where `data` lies in the file: written at the next aligned offset the first time this array
   * object is placed, the same place after (graphs built over the same weights share them).
   */
  place(data: ArrayBufferView): { readonly offset: number; readonly length: number };
  /** Closes the file descriptor (placing after close throws). */
  close(): void;
}

export interface ExternalDataFileOptions {
  /**
   * Offsets are multiples of this (default 4096, a page: ORT can map page-aligned data instead of
   * copying it; the onnx Python helper's default too).
   */
  readonly align?: number;
}

/** Opens (truncating) a side file for external initializers. */
export function openExternalDataFile(path: string, opts: ExternalDataFileOptions = {}): ExternalDataFile {
  const align = opts.align ?? 4096;
  if (!Number.isInteger(align) || align < 1)
    throw new Error(`externalData.align must be an integer >= 1 (got ${align})`);
  let fd: number | undefined = openSync(path, 'w');
  let end = 0;
  path = resolve(path);
  const placed = new WeakMap<ArrayBufferView, { offset: number; length: number }>();
  return {
    path,
    get bytes() {
      return end;
    },
    place(data) {
      const known = placed.get(data);
      if (known) return known;
      if (fd === undefined) throw new Error(`external data file ${path} is closed`);
      const offset = Math.ceil(end / align) * align;
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      // Positioned writes of the tensor's own memory: no buffer is built, whatever the model's size.
      // writeSync may write less than asked (large writes are split by the OS).
      for (let done = 0; done < bytes.byteLength; ) {
        done += writeSync(fd, bytes, done, bytes.byteLength - done, offset + done);
      }
      end = offset + bytes.byteLength;
      const at = { offset, length: bytes.byteLength };
      placed.set(data, at);
      return at;
    },
    close() {
      if (fd === undefined) return;
      closeSync(fd);
      fd = undefined;
    },
  };
}

export interface ExternalDataOptions {
  /**
   * The side file: a name in the model's folder (default `<model file name>.data`), or an open
   * `ExternalDataFile` in that folder (several models sharing one file, each weight written once).
   */
  readonly file?: string | ExternalDataFile;
  /**
   * Initializers of at least this many bytes go to the side file (default 1024); the rest stay
   * inline, as do empty tensors and small integer/bool ones (shape constants: see INLINE_INTEGER_BYTES).
   */
  readonly minBytes?: number;
  /** Offset alignment when `file` is a name (default 4096). */
  readonly align?: number;
}

export interface WriteOnnxModelOptions extends EmitOptions {
  /** Where the model proto is written. */
  readonly path: string;
  /** Without it every initializer is inline (the 2 GiB limit applies). */
  readonly externalData?: ExternalDataOptions;
}

export interface WrittenOnnxModel {
  /** The model file (load sessions from this path). */
  readonly path: string;
  /** The side file, when any initializer went there. */
  readonly dataPath?: string;
  /** Bytes of the model file. */
  readonly modelBytes: number;
  /** Initializers written to the side file / left inline. */
  readonly externalTensors: number;
  readonly inlineTensors: number;
}

function externalTensor(name: string, t: Tensor, location: string, file: ExternalDataFile) {
  const { offset, length } = file.place(t.data);
  return {
    name,
    dataType: ONNX_DTYPE[t.dtype],
    dims: [...t.dims],
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  };
}

/**
 * Writes a graph as an ONNX model file, initializers of at least `externalData.minBytes` in one
 * side file (streamed tensor by tensor: no buffer over one tensor is built), the rest inline.
 * The model proto must still fit protobuf's 2 GiB; only inline initializers count toward it.
 */
export function writeOnnxModel(graph: GraphCore, opts: WriteOnnxModelOptions): WrittenOnnxModel {
  const ext = opts.externalData;
  const inits = graphInitializers(graph, opts);
  if (!ext) {
    const bytes = encodeModelProto(
      buildModelProto(graph, opts),
      inits.reduce((n, [, t]) => n + t.data.byteLength, 0),
    );
    writeWhole(opts.path, bytes);
    return { path: opts.path, modelBytes: bytes.byteLength, externalTensors: 0, inlineTensors: inits.length };
  }
  const minBytes = ext.minBytes ?? 1024;
  if (!(minBytes >= 0)) throw new Error(`externalData.minBytes must be >= 0 (got ${minBytes})`);
  const given = typeof ext.file === 'object' ? ext.file : undefined;
  const name = typeof ext.file === 'string' ? ext.file : `${basename(opts.path)}.data`;
  if (name !== basename(name) || name === '' || name === '.' || name === '..')
    throw new Error(
      `externalData.file must be a file name in the model's folder (got ${JSON.stringify(name)})`,
    );
  const dataPath = given?.path ?? join(dirname(opts.path), name);
  if (given && dirname(given.path) !== dirname(resolve(opts.path)))
    throw new Error(
      `externalData.file ${given.path} must lie in the model's folder ${dirname(resolve(opts.path))}`,
    );
  const location = basename(dataPath);
  const goesOut = (t: Tensor) => t.data.byteLength >= minBytes && t.data.byteLength > 0 && !isShapeLike(t);
  const external = inits.filter(([, t]) => goesOut(t)).length;
  let file = given;
  if (!file && external > 0)
    file = openExternalDataFile(dataPath, ext.align === undefined ? {} : { align: ext.align });
  let inlineBytes = 0;
  try {
    const model = buildModelProto(graph, opts, (n, t) => {
      if (file && goesOut(t)) return externalTensor(n, t, location, file);
      inlineBytes += t.data.byteLength;
      const d = t.data;
      return {
        name: n,
        dataType: ONNX_DTYPE[t.dtype],
        dims: [...t.dims],
        rawData: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
      };
    });
    const bytes = encodeModelProto(model, inlineBytes);
    writeWhole(opts.path, bytes);
    return {
      path: opts.path,
      ...(external > 0 ? { dataPath } : {}),
      modelBytes: bytes.byteLength,
      externalTensors: external,
      inlineTensors: inits.length - external,
    };
  } finally {
    if (!given) file?.close();
  }
}

/** Integer/bool initializers up to this size always stay inline (see isShapeLike). */
export const INLINE_INTEGER_BYTES = 4096;

/**
 * Shapes, axes, starts/ends and the like: ORT's shape inference reads these constants while it
 * loads the model and fails on external ones ("Cannot parse data from external tensors"), so small
 * integer and bool tensors stay inline whatever `minBytes` says. Weights are float.
 */
function isShapeLike(t: Tensor): boolean {
  return t.dtype !== 'float32' && t.dtype !== 'float64' && t.data.byteLength <= INLINE_INTEGER_BYTES;
}

function writeWhole(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    for (let done = 0; done < bytes.byteLength; ) done += writeSync(fd, bytes, done, bytes.byteLength - done);
  } finally {
    closeSync(fd);
  }
}
