import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { toWire } from "@stagebeam/proto"
import { Effect } from "effect"
import { CliFailure, EXIT } from "../ExitCodes.ts"

/**
 * Everything that decides what a row's answer is: a resumed run must run under the same, or its rows would mix
 * settings. Kept as DIR/settings.json beside results.jsonl.
 */
export interface RunSettings {
  readonly dataset: string
  readonly layout: string
  readonly rows: number
  readonly scored: string
  readonly preset: string
  readonly seed: number
  readonly sampling: {
    readonly temperature: number | null
    readonly topP: number | null
    readonly maxTokens: number | null
  }
  readonly configurations: ReadonlyArray<{
    readonly label: string
    readonly search: unknown
    readonly judge: string | null
  }>
  /** What answered: the gateway and its pools (models, server versions, simulated or not). */
  readonly fleet: unknown
}

/** The dotted paths where two JSON values differ, with both values (the first few). */
export const differences = (here: unknown, there: unknown, path = ""): ReadonlyArray<string> => {
  if (JSON.stringify(here) === JSON.stringify(there)) return []
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v)
  if (isObject(here) && isObject(there)) {
    const keys = [...new Set([...Object.keys(here), ...Object.keys(there)])]
    return keys.flatMap((key) => differences(here[key], there[key], path === "" ? key : `${path}.${key}`))
  }
  return [`${path || "settings"}: ${JSON.stringify(there)} in the results, ${JSON.stringify(here)} now`]
}

/**
 * Writes DIR/settings.json for a new run; for a resumed one (results.jsonl present) refuses when the settings
 * differ, naming each difference.
 */
export const checkResume = (dir: string, settings: RunSettings) =>
  Effect.gen(function* () {
    const file = join(dir, "settings.json")
    // The files' one convention (snake_case, numbers), as written and as compared.
    const written = toWire(settings)
    const hasRows = existsSync(join(dir, "results.jsonl"))
    if (hasRows) {
      const previous = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as unknown) : undefined
      const diff =
        previous === undefined ? ["settings.json: missing (rows of unknown settings)"] : differences(written, previous)
      if (diff.length > 0) {
        return yield* Effect.fail(
          new CliFailure({
            message: `${join(dir, "results.jsonl")} holds rows made under other settings; resume with the same ones or use another --out:\n  ${diff.slice(0, 12).join("\n  ")}`,
            exitCode: EXIT.usage,
          }),
        )
      }
    }
    writeFileSync(file, `${JSON.stringify(written, null, 2)}\n`)
  })
