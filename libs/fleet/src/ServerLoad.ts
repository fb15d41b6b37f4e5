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

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/

/** Sums each gauge over its label sets (one per served model); undefined when the text has none of them. */
export const parseServerLoad = (text: string): ServerLoad | undefined => {
  const sums = new Map<string, number>()
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue
    const match = SAMPLE.exec(line.trim())
    if (match === null) continue
    const value = Number(match[3])
    if (!Number.isFinite(value)) continue
    const name = match[1]!
    sums.set(name, (sums.get(name) ?? 0) + value)
  }
  const first = (names: ReadonlyArray<string>) =>
    names.map((name) => sums.get(name)).find((value) => value !== undefined)
  const running = first(RUNNING)
  const waiting = first(WAITING)
  if (running === undefined && waiting === undefined) return undefined
  return { running: running ?? 0, waiting: waiting ?? 0, kvUsage: first(KV_USAGE) ?? 0 }
}
