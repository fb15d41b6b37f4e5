/** What a vLLM or SGLang server says of its own load on /metrics (all clients' requests, not only this gateway's). */
export interface ServerLoad {
  readonly running: number
  readonly waiting: number
  /** KV-cache usage in [0, 1]. */
  readonly kvUsage: number
}

// vLLM's V0 (what v0.10.2 exposes for mllama) and V1 names (V1 renamed the cache gauge), then SGLang's.
const RUNNING = ["vllm:num_requests_running", "sglang:num_running_reqs"]
const WAITING = ["vllm:num_requests_waiting", "sglang:num_queue_reqs"]
const KV_USAGE = ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "sglang:token_usage"]

const isBlank = (code: number) => code === 32 || code === 9

/**
 * The sum of `name`'s samples over its label sets, undefined without one. Samples are found by the name where a line
 * starts, not by reading every line: a vLLM page holds 100–300 kB of histograms, read a few times a second per server.
 */
const sumOf = (text: string, name: string): number | undefined => {
  let sum: number | undefined
  for (let at = text.indexOf(name); at !== -1; at = text.indexOf(name, at + name.length)) {
    let start = at
    while (start > 0 && isBlank(text.charCodeAt(start - 1))) start--
    // Not a sample's name: inside a comment ("# HELP name …") or another name's tail.
    if (start > 0 && text.charCodeAt(start - 1) !== 10) continue
    let from = at + name.length
    if (text.charCodeAt(from) === 123) {
      const close = text.indexOf("}", from)
      if (close === -1) break
      from = close + 1
    } else if (!isBlank(text.charCodeAt(from))) continue // a longer name that starts with this one
    let end = text.indexOf("\n", from)
    if (end === -1) end = text.length
    const token = text.slice(from, end).trim().split(/\s+/, 1)[0] ?? ""
    const value = token === "" ? Number.NaN : Number(token)
    if (!Number.isFinite(value)) continue
    sum = (sum ?? 0) + value
  }
  return sum
}

/** Sums each gauge over its label sets (one per served model); undefined when the text has none of them. */
export const parseServerLoad = (text: string): ServerLoad | undefined => {
  const first = (names: ReadonlyArray<string>) => {
    for (const name of names) {
      const value = sumOf(text, name)
      if (value !== undefined) return value
    }
    return undefined
  }
  const running = first(RUNNING)
  const waiting = first(WAITING)
  if (running === undefined && waiting === undefined) return undefined
  return { running: running ?? 0, waiting: waiting ?? 0, kvUsage: first(KV_USAGE) ?? 0 }
}
