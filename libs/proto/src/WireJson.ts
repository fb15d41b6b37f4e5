/**
 * One JSON convention for the HTTP door and the files stagebeam writes (docs/api.md, "One JSON convention"): keys in
 * snake_case, as OpenAI's API and the HTTP door's own request fields are, and counts and times as JSON numbers. The
 * gRPC messages' JSON (proto3's mapping: lowerCamelCase, 64-bit integers as decimal strings) passes through here
 * before it leaves by the HTTP door or lands in a file; the gRPC door itself keeps the proto's.
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
  // Never silently rounded: a value past 2^53 − 1 (none stagebeam sends) would stay a decimal string.
  return Number.isSafeInteger(number) ? number : value
}

export interface WireOptions {
  /**
   * Fields (snake_case) whose value is a record keyed by names, not by field names (pools by the operator's name,
   * VLMEvalKit's metrics): those names are kept as written, their values converted.
   */
  readonly records?: ReadonlyArray<string>
}

/** A value in the convention: every key snake_case, every 64-bit count or time a number. */
export const toWire = (value: unknown, options: WireOptions = {}): unknown => {
  const records = options.records ?? []
  const convert = (inner: unknown, namesAsData: boolean): unknown => {
    if (Array.isArray(inner)) return inner.map((each) => convert(each, false))
    if (inner === null || typeof inner !== "object" || inner instanceof Uint8Array) return inner
    return Object.fromEntries(
      Object.entries(inner).map(([key, field]) => {
        if (namesAsData) return [key, convert(field, false)]
        const name = snakeCase(key)
        return [name, INT64_FIELDS.has(name) ? asNumber(field) : convert(field, records.includes(name))]
      }),
    )
  }
  return convert(value, false)
}
