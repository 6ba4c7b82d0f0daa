'use strict';

/** Copy of obj with only the given keys. */
function pick(obj, keys) {
  const out = {};
  for (const key of keys) {
    if (key in obj) {
      out[key] = obj[key];
    }
  }
  return out;
}

/** Structural equality of plain objects, arrays and primitives. */
function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  for (const key of Object.keys(a)) {
    if (!deepEqual(a[key], b[key])) return false;
  }
  return true;
}

module.exports = { pick, deepEqual };
