// Prometheus exposition with the names of the server kind simulated: vLLM's V0 set (v0.10.2 for mllama, with the
// V1 renames it already carries), vLLM's V1 set (0.11+), or SGLang's.
import type { Engine, Histogram } from "./engine.ts"

export interface RequestOutcomes {
  stop: number
  length: number
  abort: number
  error: number
}

const histogram = (name: string, help: string, h: Histogram, labels: string): string => {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`]
  h.buckets.forEach((le, i) => {
    lines.push(`${name}_bucket{${labels},le="${le}"} ${h.counts[i]}`)
  })
  lines.push(`${name}_bucket{${labels},le="+Inf"} ${h.count}`)
  lines.push(`${name}_sum{${labels}} ${h.sum}`)
  lines.push(`${name}_count{${labels}} ${h.count}`)
  return lines.join("\n")
}

const gauge = (name: string, help: string, value: number, labels: string, type = "gauge") =>
  `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name}{${labels}} ${value}`

export type MetricNames = "vllm-v0" | "vllm-v1" | "sglang" | "none"

export const renderMetrics = (
  engine: Engine,
  model: string,
  outcomes: RequestOutcomes,
  names: MetricNames = "vllm-v0",
): string => {
  switch (names) {
    case "vllm-v0":
      return vllmV0(engine, model, outcomes)
    case "vllm-v1":
      return vllmV1(engine, model, outcomes)
    case "sglang":
      return sglangMetrics(engine, model)
    case "none":
      return ""
  }
}

const successTotal = (labels: string, outcomes: RequestOutcomes) =>
  [
    "# HELP vllm:request_success_total Count of successfully processed requests.",
    "# TYPE vllm:request_success_total counter",
    `vllm:request_success_total{${labels},finished_reason="stop"} ${outcomes.stop}`,
    `vllm:request_success_total{${labels},finished_reason="length"} ${outcomes.length}`,
    `vllm:request_success_total{${labels},finished_reason="abort"} ${outcomes.abort}`,
  ].join("\n")

/** The V0 set v0.10.2 exposes for mllama, plus the V1 renames it already carries. */
const vllmV0 = (engine: Engine, model: string, outcomes: RequestOutcomes): string => {
  const labels = `model_name="${model}"`
  const s = engine.stats
  const hitRate = s.prefixQueries === 0 ? 0 : s.prefixHits / s.prefixQueries
  const parts = [
    gauge(
      "vllm:num_requests_running",
      "Number of requests currently running on GPU.",
      engine.runningRequests(),
      labels,
    ),
    gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", engine.waitingRequests(), labels),
    gauge("vllm:num_requests_swapped", "Number of requests swapped to CPU.", 0, labels),
    gauge("vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage.", engine.kvUsage(), labels),
    gauge("vllm:cpu_cache_usage_perc", "CPU KV-cache usage. 1 means 100 percent usage.", 0, labels),
    gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", engine.kvUsage(), labels),
    gauge("vllm:gpu_prefix_cache_hit_rate", "GPU prefix cache block hit rate.", hitRate, labels),
    gauge("vllm:prefix_cache_queries_total", "Prefix cache queries, in tokens.", s.prefixQueries, labels, "counter"),
    gauge("vllm:prefix_cache_hits_total", "Prefix cache hits, in tokens.", s.prefixHits, labels, "counter"),
    gauge("vllm:num_preemptions_total", "Cumulative number of preemptions.", s.preemptions, labels, "counter"),
    gauge("vllm:prompt_tokens_total", "Number of prefill tokens processed.", s.promptTokensTotal, labels, "counter"),
    gauge(
      "vllm:generation_tokens_total",
      "Number of generation tokens processed.",
      s.generationTokensTotal,
      labels,
      "counter",
    ),
    successTotal(labels, outcomes),
    histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", s.ttft, labels),
    histogram("vllm:time_per_output_token_seconds", "Histogram of time per output token in seconds.", s.tpot, labels),
    histogram("vllm:e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.", s.e2e, labels),
    histogram("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase.", s.queue, labels),
  ]
  return `${parts.join("\n")}\n`
}

/**
 * The V1 engine's names (vLLM ≥ 0.11): the cache gauge is kv_cache_usage_perc, prefix caching is two counters, the
 * V0-only gauges (swapped, cpu cache, hit rate) are gone, and every sample carries an engine label.
 */
const vllmV1 = (engine: Engine, model: string, outcomes: RequestOutcomes): string => {
  const labels = `model_name="${model}",engine="0"`
  const s = engine.stats
  const parts = [
    gauge(
      "vllm:num_requests_running",
      "Number of requests in model execution batches.",
      engine.runningRequests(),
      labels,
    ),
    gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", engine.waitingRequests(), labels),
    gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", engine.kvUsage(), labels),
    gauge("vllm:prefix_cache_queries_total", "Prefix cache queries, in tokens.", s.prefixQueries, labels, "counter"),
    gauge("vllm:prefix_cache_hits_total", "Prefix cache hits, in tokens.", s.prefixHits, labels, "counter"),
    gauge(
      "vllm:num_preemptions_total",
      "Cumulative number of preemption from the engine.",
      s.preemptions,
      labels,
      "counter",
    ),
    gauge("vllm:prompt_tokens_total", "Number of prefill tokens processed.", s.promptTokensTotal, labels, "counter"),
    gauge(
      "vllm:generation_tokens_total",
      "Number of generation tokens processed.",
      s.generationTokensTotal,
      labels,
      "counter",
    ),
    successTotal(labels, outcomes),
    histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", s.ttft, labels),
    histogram("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", s.tpot, labels),
    histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", s.e2e, labels),
    histogram(
      "vllm:request_queue_time_seconds",
      "Histogram of time spent in WAITING phase for request.",
      s.queue,
      labels,
    ),
  ]
  return `${parts.join("\n")}\n`
}

/** SGLang's collector names (docs: references/production_metrics). */
const sglangMetrics = (engine: Engine, model: string): string => {
  const labels = `model_name="${model}"`
  const s = engine.stats
  const hitRate = s.prefixQueries === 0 ? 0 : s.prefixHits / s.prefixQueries
  const parts = [
    gauge("sglang:num_running_reqs", "The number of running requests.", engine.runningRequests(), labels),
    gauge("sglang:num_queue_reqs", "The number of requests in the waiting queue.", engine.waitingRequests(), labels),
    gauge("sglang:token_usage", "The token usage.", engine.kvUsage(), labels),
    gauge("sglang:cache_hit_rate", "The prefix cache hit rate.", hitRate, labels),
    gauge("sglang:prompt_tokens_total", "Number of prefill tokens processed.", s.promptTokensTotal, labels, "counter"),
    gauge(
      "sglang:generation_tokens_total",
      "Number of generation tokens processed.",
      s.generationTokensTotal,
      labels,
      "counter",
    ),
    histogram("sglang:time_to_first_token_seconds", "Histogram of time to first token in seconds.", s.ttft, labels),
    histogram("sglang:e2e_request_latency_seconds", "Histogram of E2E request latency in seconds.", s.e2e, labels),
  ]
  return `${parts.join("\n")}\n`
}
