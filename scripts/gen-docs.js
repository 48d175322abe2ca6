// Regenerates docs/configuration.md from the config definitions (needs a build: bin/strata or npm run build).
const fs = require('node:fs');
const path = require('node:path');
const { configReferenceMarkdown } = require('../packages/common/lib/index.js');
fs.writeFileSync(path.join(__dirname, '../docs/configuration.md'), configReferenceMarkdown());
