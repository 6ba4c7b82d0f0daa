'use strict';

/** Split arr into arrays of length size. */
function chunk(arr, size) {
  const out = [];
  const rest = arr.slice();
  while (rest.length > 0) {
    out.push(rest.splice(0, size));
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
