// Lists, NUL-separated, the files of an image's build context (relative to the repo root), for `tar -T`:
//   gateway    the manifests, the proto, the sources of libs/ and services/gateway without tests (no simulator, no
//              CLI), and the production dependencies copied from the repo's node_modules;
//   simulator  services/vllm-sim's sources and its dependencies.
// Which packages are production ones comes from package-lock.json, where npm marks dev-only entries
// `dev`/`devOptional`, so this equals `npm ci --omit=dev` without the network.
// Run by deploy/build-image.sh: node deploy/context-files.ts gateway|simulator
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

const repo = join(import.meta.dirname, "..")

interface LockEntry {
  readonly version?: string
  readonly dev?: boolean
  readonly devOptional?: boolean
  readonly optional?: boolean
  readonly link?: boolean
}

const lock = JSON.parse(readFileSync(join(repo, "package-lock.json"), "utf8")) as {
  packages: Record<string, LockEntry>
}

/** Files under `dir` (repo-relative), without the entries `skip` refuses; symlinks are listed, not followed. */
const walk = (dir: string, skip: (name: string) => boolean): Array<string> =>
  readdirSync(join(repo, dir), { withFileTypes: true }).flatMap((entry) => {
    if (skip(entry.name)) return []
    const path = join(dir, entry.name)
    return entry.isDirectory() ? walk(path, skip) : [path]
  })

const notSource = (name: string) =>
  name === "node_modules" ||
  name === "test" ||
  name === "tsconfig.json" ||
  name === "vitest.config.ts" ||
  name.endsWith(".test.ts")

// Nested node_modules are lock entries of their own; types, sources and source maps never run.
const notRuntime = (name: string) => name === "node_modules" || /\.(d\.)?[mc]?ts$|\.map$/.test(name)

const target = process.argv[2] ?? "gateway"
if (target !== "gateway" && target !== "simulator") throw new Error(`unknown image ${target}: gateway or simulator`)

/** Workspaces the image leaves out: the gateway's has no simulator (nor the CLI); the simulator's only itself. */
const leftOut = (path: string) =>
  target === "gateway"
    ? /^(services\/(vllm-sim|cli)|node_modules\/@stagebeam\/(vllm-sim|cli))(\/|$)/.test(path)
    : /^(libs\/|services\/(?!vllm-sim)|proto|node_modules\/@stagebeam\/(?!vllm-sim))/.test(path)

const sources = [
  // The Dockerfile travels in the context: `docker build -f` names it there.
  target === "gateway" ? "deploy/Dockerfile" : "deploy/simulator.Dockerfile",
  "package.json",
  "package-lock.json",
  ...["proto", "libs", "services"].flatMap((dir) => walk(dir, notSource)),
].filter((path) => !leftOut(path))

const dependencies = Object.entries(lock.packages).flatMap(([path, entry]) => {
  if (!path.startsWith("node_modules/") || entry.dev || entry.devOptional) return []
  if (path.includes("@types/")) return []
  // The project's own Node binary (for npm scripts): the base image brings node itself.
  if (/^node_modules\/node-(linux|darwin)-/.test(path)) return []
  const full = join(repo, path)
  if (!existsSync(full)) {
    if (entry.optional) return [] // another platform's binary
    throw new Error(`${path} is in package-lock.json but not installed: run npm ci first`)
  }
  if (entry.link) return [path] // a workspace symlink
  const installed = JSON.parse(readFileSync(join(full, "package.json"), "utf8")) as { version?: string }
  if (installed.version !== entry.version) {
    throw new Error(`${path} is ${installed.version}, package-lock.json says ${entry.version}: run npm ci first`)
  }
  return lstatSync(full).isDirectory() ? walk(path, notRuntime) : [path]
})

process.stdout.write([...sources, ...dependencies.filter((path) => !leftOut(path))].map((file) => `${file}\0`).join(""))
