#!/usr/bin/env node
// In the workspace, Node 24 runs the TypeScript sources directly (type stripping). The package `npm pack` makes
// has no sources: it runs the bundle built at pack time (scripts/bundle.ts), on any Node >= 20.
import { existsSync } from "node:fs"

const source = new URL("../src/main.ts", import.meta.url)
await import(existsSync(source) ? source.href : new URL("../dist/cli/stagebeam.js", import.meta.url).href)
