import { Effect, Predicate, Schema, SchemaIssue } from "effect"
import { GatewayConfigError } from "../GatewayErrors.ts"
import { noOrigins, type Origins } from "./Environment.ts"
import { knownKeysAt, nearest } from "./SchemaKeys.ts"
import { Settings, type SettingsInput } from "./Settings.ts"

/** Marks an unknown key's issue, so that its message can name the known keys there. */
const UNKNOWN_KEY = "unknown key"

const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1({
  leafHook: (issue) => (issue._tag === "UnexpectedKey" ? UNKNOWN_KEY : SchemaIssue.defaultLeafHook(issue)),
})
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

/** An unknown key's message: the nearest known key there, else the keys there are. */
const unknownKeyMessage = (path: Path): string => {
  const keys = path.map(keyOf) as ReadonlyArray<PropertyKey>
  const known = knownKeysAt(Settings.ast, keys.slice(0, -1))
  const suggestion = nearest(String(keys.at(-1)), known)
  if (suggestion !== undefined) return `unknown key (did you mean "${suggestion}"?)`
  return known.length === 0 ? "unknown key" : `unknown key (known here: ${known.join(", ")})`
}

/**
 * Decodes settings; a problem stops the gateway with every problem found, each naming the path to fix. A key the
 * schema does not know, at any depth, is one of them: a misspelt key must not fall back to a default silently.
 */
export const decodeSettings = (
  input: SettingsInput | unknown,
  origins: Origins = noOrigins,
): Effect.Effect<Settings, GatewayConfigError> =>
  decode(input, { errors: "all", onExcessProperty: "error" }).pipe(
    Effect.mapError((error) => {
      const problems = formatIssues(error.issue).issues.map((issue) => {
        const path = issue.path ?? []
        const message = issue.message === UNKNOWN_KEY ? unknownKeyMessage(path) : issue.message
        return `${formatPath(path) || "settings"}${originOf(path, origins)}: ${message}`
      })
      return new GatewayConfigError({ message: `invalid settings: ${problems.join("; ")}` })
    }),
  )
