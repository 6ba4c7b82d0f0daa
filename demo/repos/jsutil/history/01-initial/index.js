'use strict';

module.exports = { ...require('./src/array') };
