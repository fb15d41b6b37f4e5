/**
 * The HTTP door's one JSON convention (docs/api.md, "One convention"): keys in snake_case, as OpenAI's API and the
 * door's own request fields are, and counts and times as JSON numbers. The gRPC door's messages (proto3 JSON:
 * lowerCamelCase, 64-bit integers as decimal strings) pass through here before the HTTP door answers with them.
 */

/** `atMs` → `at_ms`, `mergedIntoPlusOne` → `merged_into_plus_one`; a snake_case key stays as it is. */
export const snakeCase = (key: string): string => key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)

/**
 * The proto's 64-bit fields (uint64 in reasoner.proto), which proto3 JSON writes as strings. Each fits a double
 * exactly: seeds are 32-bit (vLLM's), the rest are milliseconds and token counts of one search.
 */
const INT64_FIELDS: ReadonlySet<string> = new Set([
  "seed",
  "at_ms",
  "started_at_ms",
  "ended_at_ms",
  "elapsed_ms",
  "prompt_tokens",
  "completion_tokens",
  "token_budget",
])

const asNumber = (value: unknown): unknown => {
  if (typeof value !== "string" || !/^-?\d+$/.test(value)) return value
  const number = Number(value)
  // Never silently rounded: a value past 2^53 − 1 (none the gateway sends) would stay a decimal string.
  return Number.isSafeInteger(number) ? number : value
}

/** A value in the HTTP door's convention: every key snake_case, every 64-bit count or time a number. */
export const toWire = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(toWire)
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) return value
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => {
      const name = snakeCase(key)
      return [name, INT64_FIELDS.has(name) ? asNumber(inner) : toWire(inner)]
    }),
  )
}

/**
 * A record keyed by names the operator chose (pools), its values in the convention: the names are data, not
 * field names, so they are kept as written.
 */
export const toWireRecord = (record: Readonly<Record<string, unknown>>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(record).map(([name, inner]) => [name, toWire(inner)]))
