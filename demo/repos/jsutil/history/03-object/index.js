'use strict';

module.exports = {
  ...require('./src/array'),
  ...require('./src/string'),
  ...require('./src/object'),
};
