#!/usr/bin/env node
// Tiny shim: Node 24 strips the TypeScript types of the sources.
import "../src/main.ts"
