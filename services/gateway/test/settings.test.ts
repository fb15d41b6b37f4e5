import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Predicate } from "effect"
import { decodeSettings } from "../src/config/Decode.ts"
import { CONFIG_FILE_VARIABLE, ENVIRONMENT } from "../src/config/Environment.ts"

const readme = readFileSync(join(import.meta.dirname, "../../../docs/settings.md"), "utf8")

/** The rows of the settings table (docs/settings.md): | `key` | `VARIABLE` or — | default | meaning |. */
const rows = [...readme.matchAll(/^\| `([^`]+)` +\| (?:`(STAGEBEAM_[A-Z_]+)`|—) +\| ([^|]*?) +\|/gm)].map((match) => ({
  key: match[1]!,
  variable: match[2],
  default: match[3]!.trim(),
}))

/** A default as the table writes it. */
const formatDefault = (value: unknown): string => {
  if (Duration.isDuration(value)) {
    const ms = Duration.toMillis(value)
    const [unit, size] = ms % 60_000 === 0 ? ["m", 60_000] : ms % 1000 === 0 ? ["s", 1000] : ["ms", 1]
    return `\`${ms / size}${unit}\``
  }
  if (Array.isArray(value)) return value.length === 0 ? "_(none)_" : `\`${value.join(",")}\``
  return `\`${String(value)}\``
}

/** Every leaf of the decoded defaults, by its dotted path. */
const leaves = (value: unknown, path: ReadonlyArray<string> = []): ReadonlyArray<readonly [string, unknown]> =>
  Predicate.isObject(value) && !Array.isArray(value) && !Duration.isDuration(value)
    ? Object.entries(value).flatMap(([key, inner]) => leaves(inner, [...path, key]))
    : [[path.join("."), value]]

describe("the settings table (docs/settings.md)", () => {
  it.effect("lists every setting with its variable and its default, and nothing the gateway does not read", () =>
    Effect.gen(function* () {
      assert.isAbove(rows.length, 20)
      const byKey = new Map(rows.map((row) => [row.key, row]))
      for (const { variable, path } of ENVIRONMENT) {
        assert.strictEqual(byKey.get(path.join("."))?.variable, variable, `${path.join(".")} ↔ ${variable}`)
      }
      const known = new Set([CONFIG_FILE_VARIABLE, ...ENVIRONMENT.map((entry) => entry.variable)])
      for (const row of rows) if (row.variable !== undefined) assert.isTrue(known.has(row.variable), row.variable)
      const defaults = yield* decodeSettings({ pools: { generator: { endpoints: ["http://gpu-1:8000"] } } })
      for (const [key, value] of leaves(defaults).filter(([key]) => !key.startsWith("pools."))) {
        assert.strictEqual(byKey.get(key)?.default, formatDefault(value), `default of ${key}`)
      }
    }),
  )
})
