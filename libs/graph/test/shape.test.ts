import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createGraph } from '../src/index.js';
import { broadcastShapes, dimAdd, dimDiv, dimMul, dimsEqual } from '../src/shape.js';

test('symbolic dim arithmetic compares by name', () => {
  assert.equal(dimMul('batch', 'seq'), 'batch*seq');
  assert.ok(dimsEqual(dimMul('seq', 'batch'), 'batch*seq'));
  assert.equal(dimMul(2, 3), 6);
  assert.equal(dimMul('seq', 4), '4*seq');
  assert.equal(dimDiv('batch*seq', 'seq'), 'batch');
  assert.equal(dimDiv(dimMul('4*seq', 'batch'), dimMul('batch', 2)), '2*seq');
  assert.equal(dimDiv('batch', 'seq'), undefined);
  assert.equal(dimAdd('past', 'seq'), 'past+seq');
  assert.equal(dimAdd(0, 'seq'), 'seq');
  assert.equal(dimAdd(2, 3), 5);
  assert.equal(dimMul('past+seq', 'batch'), 'batch*(past+seq)');
  assert.equal(dimDiv('(past+seq)*batch', 'batch'), 'past+seq');
  assert.ok(!dimsEqual('seq', 'past'));
});

test('broadcasting rules with symbolic dims', () => {
  assert.deepEqual(broadcastShapes(['batch', 1, 'seq'], ['heads', 1]), ['batch', 'heads', 'seq']);
  assert.deepEqual(broadcastShapes([], ['seq', 3]), ['seq', 3]);
  assert.throws(() => broadcastShapes(['seq', 3], ['past', 3]), /cannot broadcast/);
  assert.throws(() => broadcastShapes([2], [3]), /cannot broadcast/);
});

test('constants are deduplicated by dtype, dims and content', () => {
  const g = createGraph();
  assert.equal(g.scalar(1), g.scalar(1));
  assert.notEqual(g.scalar(1), g.scalar(1, 'float64'));
  assert.notEqual(g.ints([1, 2]), g.ints([2, 1]));
  assert.equal(g.ints([1, 2]), g.constant(BigInt64Array.from([1n, 2n])));
  const x = g.input('x', 'float32', ['n']);
  g.mul(x, 2);
  g.mul(x, 2);
  assert.equal(g.constants.size, 5);
});

test('nodes are plain records naming their op definition', () => {
  const g = createGraph();
  const x = g.input('x', 'float32', ['n', 4]);
  const y = g.sum(x, -1, true);
  const node = g.nodes.at(-1);
  assert.deepEqual(node, {
    op: 'ReduceSum',
    inputs: ['x', node?.inputs[1]],
    outputs: [y.name],
    attrs: { keepdims: 1 },
    domain: '',
  });
  assert.deepEqual(g.constantData(node?.inputs[1] as string)?.data, BigInt64Array.from([-1n]));
  assert.deepEqual(y.shape, ['n', 1]);
  assert.throws(() => g.node('NoSuchOp', [x]), /unknown op/);
  assert.throws(() => g.input('x', 'float32', [1]), /already used/);
  assert.throws(() => g.squeeze(x, 1), /is not 1/);
  assert.throws(() => g.reshape(x, [3, -1]), /cannot infer/);
});
