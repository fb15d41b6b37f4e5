import { Effect, Predicate, Schema, SchemaIssue } from "effect"
import { GatewayConfigError } from "../GatewayErrors.ts"
import { noOrigins, type Origins } from "./Environment.ts"
import { Settings, type SettingsInput } from "./Settings.ts"

const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()
const decode = Schema.decodeUnknownEffect(Settings)

/** A path as one writes it in YAML terms: `pools.judge.endpoints[1]`. */
type Path = ReadonlyArray<unknown>

const keyOf = (segment: unknown): unknown => (Predicate.isObject(segment) && "key" in segment ? segment.key : segment)

export const formatPath = (path: Path): string =>
  path
    .map(keyOf)
    .reduce<string>(
      (text, segment) =>
        typeof segment === "number"
          ? `${text}[${segment}]`
          : text === ""
            ? String(segment)
            : `${text}.${String(segment)}`,
      "",
    )

/** The variable or file a path's value came from, for the message. */
const originOf = (path: Path, origins: Origins): string => {
  const keys = path.map(keyOf).filter((segment): segment is string => typeof segment === "string")
  for (let length = keys.length; length > 0; length--) {
    const variable = origins.variables.get(keys.slice(0, length).join("."))
    if (variable !== undefined) return ` (from ${variable})`
  }
  return origins.file === undefined ? "" : ` (in ${origins.file})`
}

/** Decodes settings; a problem stops the gateway with every problem found, each naming the path to fix. */
export const decodeSettings = (
  input: SettingsInput | unknown,
  origins: Origins = noOrigins,
): Effect.Effect<Settings, GatewayConfigError> =>
  decode(input, { errors: "all" }).pipe(
    Effect.mapError((error) => {
      const problems = formatIssues(error.issue).issues.map((issue) => {
        const path = issue.path ?? []
        return `${formatPath(path) || "settings"}${originOf(path, origins)}: ${issue.message}`
      })
      return new GatewayConfigError({ message: `invalid settings: ${problems.join("; ")}` })
    }),
  )
