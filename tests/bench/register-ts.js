'use strict';
/**
 * Lets plain `node` require the TypeScript helpers in tests/helpers: compiles `.ts` files with
 * @swc/core (already a root devDependency for jest) to CommonJS on load. No type checking.
 */
const fs = require('node:fs');
const Module = require('node:module');
const swc = require('@swc/core');

if (!Module._extensions['.ts']) {
  Module._extensions['.ts'] = function compileTs(module, filename) {
    const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
      filename,
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'commonjs' },
      sourceMaps: 'inline',
    });
    module._compile(code, filename);
  };
}
