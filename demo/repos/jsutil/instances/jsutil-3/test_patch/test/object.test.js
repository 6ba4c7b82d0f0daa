'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { pick, deepEqual } = require('../src/object');

test('pick selects keys', () => {
  assert.deepStrictEqual(pick({ a: 1, b: 2, c: 3 }, ['a', 'c']), { a: 1, c: 3 });
});

test('pick ignores missing keys', () => {
  assert.deepStrictEqual(pick({ a: 1 }, ['a', 'z']), { a: 1 });
});

test('deepEqual nested objects', () => {
  assert.strictEqual(deepEqual({ a: { b: [1, 2] } }, { a: { b: [1, 2] } }), true);
});

test('deepEqual detects different values', () => {
  assert.strictEqual(deepEqual({ a: 1 }, { a: 2 }), false);
});

test('deepEqual arrays of different length', () => {
  assert.strictEqual(deepEqual([1, 2], [1, 2, 3]), false);
});

test('deepEqual objects with extra keys', () => {
  assert.strictEqual(deepEqual({ a: 1 }, { a: 1, b: 2 }), false);
});

test('deepEqual array and object', () => {
  assert.strictEqual(deepEqual([1], { 0: 1 }), false);
});
