'use strict';

/** Split arr into arrays of length size. */
function chunk(arr, size) {
  const out = [];
  for (let i = 0; i + size <= arr.length; i += size) {
    out.push(arr.slice(i, i + size));
  }
  return out;
}

/** Values of arr without duplicates, in first-seen order. */
function unique(arr) {
  return arr.filter((value, index) => arr.indexOf(value) === index);
}

/** Flatten nested arrays up to depth levels. */
function flatten(arr, depth = 1) {
  const out = [];
  for (const item of arr) {
    if (Array.isArray(item) && depth > 0) {
      out.push(...flatten(item, depth - 1));
    } else {
      out.push(item);
    }
  }
  return out;
}

module.exports = { chunk, unique, flatten };
