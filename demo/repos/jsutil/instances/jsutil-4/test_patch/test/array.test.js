'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { chunk, unique, flatten } = require('../src/array');

test('chunk splits evenly', () => {
  assert.deepStrictEqual(chunk([1, 2, 3, 4], 2), [[1, 2], [3, 4]]);
});

test('chunk of empty array', () => {
  assert.deepStrictEqual(chunk([], 3), []);
});

test('unique removes duplicates', () => {
  assert.deepStrictEqual(unique([1, 2, 1, 3, 2]), [1, 2, 3]);
});

test('flatten one level', () => {
  assert.deepStrictEqual(flatten([1, [2, 3], [4]]), [1, 2, 3, 4]);
});

test('flatten respects depth', () => {
  assert.deepStrictEqual(flatten([1, [2, [3, [4]]]], 2), [1, 2, 3, [4]]);
});

test('flatten with Infinity depth', () => {
  assert.deepStrictEqual(flatten([1, [2, [3, [4]]]], Infinity), [1, 2, 3, 4]);
});

test('flatten with depth zero', () => {
  assert.deepStrictEqual(flatten([1, [2]], 0), [1, [2]]);
});
