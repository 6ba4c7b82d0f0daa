'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { capitalize, padLeft } = require('../src/string');

test('capitalize word', () => {
  assert.strictEqual(capitalize('hello'), 'Hello');
});

test('capitalize keeps the rest', () => {
  assert.strictEqual(capitalize('hELLO'), 'HELLO');
});

test('padLeft pads to width', () => {
  assert.strictEqual(padLeft('7', 3, '0'), '007');
});

test('padLeft leaves long strings', () => {
  assert.strictEqual(padLeft('1234', 2), '1234');
});

test('capitalize empty string', () => {
  assert.strictEqual(capitalize(''), '');
});
