import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

describe("the README's settings table", () => {
  it("documents every environment variable the gateway reads, and no other", () => {
    const source = readFileSync(join(import.meta.dirname, "../src/Settings.ts"), "utf8")
    const readme = readFileSync(join(import.meta.dirname, "../../../README.md"), "utf8")
    const read = new Set(source.match(/STAGEBEAM_[A-Z_]+/g))
    const documented = new Set([...readme.matchAll(/^\| `(STAGEBEAM_[A-Z_]+)`/gm)].map((match) => match[1]))
    expect([...documented].sort()).toEqual([...read].sort())
  })
})
