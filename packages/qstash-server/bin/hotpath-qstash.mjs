#!/usr/bin/env node
// The built CLI (`pnpm build` writes dist/): plain Node, no TypeScript loader.
import "../dist/cli.js";
