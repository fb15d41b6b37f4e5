/**
 * The repository's modules import each other in no loop: one check over every package's sources (libs, services,
 * browser), so a loop of concepts is caught wherever it appears, and no package keeps its own copy of the walk.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"

const ROOT = resolve(import.meta.dirname, "../..")

const filesUnder = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : /\.tsx?$/.test(entry.name) ? [join(dir, entry.name)] : [],
  )

/** Every relative import and re-export of a file (type-only ones too: a loop of types is a loop of concepts). */
const importsOf = (file: string): ReadonlyArray<string> =>
  [...readFileSync(file, "utf8").matchAll(/\bfrom\s+"(\.{1,2}\/[^"]+)"/g)].map((match) =>
    resolve(dirname(file), match[1]!),
  )

/** One import loop per file that starts one, as the files along it (relative to the package's sources). */
const importLoops = (dir: string): ReadonlyArray<ReadonlyArray<string>> => {
  const graph = new Map(filesUnder(dir).map((file) => [file, importsOf(file)]))
  const loops: Array<ReadonlyArray<string>> = []
  const done = new Set<string>()
  const visit = (file: string, path: ReadonlyArray<string>) => {
    const at = path.indexOf(file)
    if (at !== -1) return void loops.push([...path.slice(at), file].map((f) => relative(dir, f)))
    if (done.has(file)) return
    for (const next of graph.get(file) ?? []) visit(next, [...path, file])
    done.add(file)
  }
  for (const file of graph.keys()) visit(file, [])
  return loops
}

/** Every workspace package's `src` folder: libs/*, services/*, and the page. */
const sourceFolders = ["libs", "services"]
  .flatMap((group) => readdirSync(join(ROOT, group)).map((name) => join(group, name, "src")))
  .concat("browser/src")
  .filter((folder) => existsSync(join(ROOT, folder)))

describe("the repository's modules", () => {
  it("cover the packages the layout names", () => {
    assert.includeMembers(sourceFolders, [
      "libs/cot/src",
      "libs/search/src",
      "libs/fleet/src",
      "libs/judge/src",
      "libs/grpc/src",
      "services/gateway/src",
      "services/vllm-sim/src",
      "services/cli/src",
    ])
  })

  it.each(sourceFolders)("%s: import each other in no loop", (folder) => {
    assert.deepStrictEqual(importLoops(join(ROOT, folder)), [])
  })

  it("finds a loop when there is one (the walk itself is checked)", () => {
    const loops = importLoops(join(import.meta.dirname, "fixtures/import-loop"))
    assert.deepStrictEqual(loops, [["a.ts", "b.ts", "a.ts"]])
  })
})
