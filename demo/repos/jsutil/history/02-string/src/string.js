'use strict';

/** Upper-case the first character of str. */
function capitalize(str) {
  return str[0].toUpperCase() + str.slice(1);
}

/** Pad str on the left with fill until it is width characters long. */
function padLeft(str, width, fill = ' ') {
  let out = String(str);
  while (out.length < width) {
    out = fill + out;
  }
  return out;
}

module.exports = { capitalize, padLeft };
