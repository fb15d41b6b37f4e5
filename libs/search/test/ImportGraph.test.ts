import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as search from "../src/index.ts"
import * as testing from "../src/testing.ts"

const SRC = resolve(import.meta.dirname, "../src")

const filesUnder = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  )

/** Every relative import and re-export of a file (type-only ones too: a loop of types is a loop of concepts). */
const importsOf = (file: string): ReadonlyArray<string> =>
  [...readFileSync(file, "utf8").matchAll(/\bfrom\s+"(\.{1,2}\/[^"]+)"/g)].map((match) =>
    resolve(dirname(file), match[1]!),
  )

/** One import loop per file that starts one, as the files along it. */
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

describe("libs/search's modules", () => {
  it("import each other in no loop", () => {
    assert.deepStrictEqual(importLoops(SRC), [])
  })

  it("are small: none over 300 lines", () => {
    const long = filesUnder(SRC)
      .map((file) => ({ file: relative(SRC, file), lines: readFileSync(file, "utf8").split("\n").length }))
      .filter(({ lines }) => lines > 300)
    assert.deepStrictEqual(long, [])
  })

  it("export no test-only code: the fakes come from the testing subpath", () => {
    assert.deepStrictEqual(
      Object.keys(search).filter((name) => /fake|criticalPath/i.test(name)),
      [],
    )
    assert.includeMembers(Object.keys(testing), ["makeFakeGenerator", "makeFakeJudge", "makeFakeScorer"])
  })
})
