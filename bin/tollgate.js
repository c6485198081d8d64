#!/usr/bin/env node
// Thin launcher so `npx tollgate` and the package bin work without a TypeScript loader.
import '../dist/src/cli/main.js'
