import { readdirSync, readFileSync } from "node:fs"
import { join, relative, resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as search from "../src/index.ts"
import * as testing from "../src/testing.ts"

const SRC = resolve(import.meta.dirname, "../src")

const filesUnder = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  )

// Import loops are checked for every package at once: e2e/test/import-graph.test.ts.
describe("libs/search's modules", () => {
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
