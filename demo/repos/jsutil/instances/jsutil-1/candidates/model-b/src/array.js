'use strict';

/** Split arr into arrays of length size. */
function chunk(arr, size) {
  const out = [];
  let i = 0;
  for (; i + size <= arr.length; i += size) {
    out.push(arr.slice(i, i + size));
  }
  if (i < arr.length) {
    out.push(...arr.slice(i));
  }
  return out;
}

/** Values of arr without duplicates, in first-seen order. */
function unique(arr) {
  return arr.filter((value, index) => arr.indexOf(value) === index);
}

/** Flatten nested arrays up to depth levels. */
function flatten(arr, depth = 1) {
  return [].concat(...arr);
}

module.exports = { chunk, unique, flatten };
