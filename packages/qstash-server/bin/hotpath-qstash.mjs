#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader (the package is consumed from source).
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
