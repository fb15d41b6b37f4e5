import { describe, expect, it } from "vitest"
import { STALE_AFTER_MS } from "../src/LoadReports.ts"
import { initialState, isSaturated, loadScore, pickEndpoint } from "../src/Router.ts"
import { parseServerLoad } from "../src/ServerLoad.ts"

describe("parseServerLoad", () => {
  it("reads vLLM V0 gauges, summing label sets", () => {
    const text = [
      "# HELP vllm:num_requests_running Number of requests currently running on GPU.",
      "# TYPE vllm:num_requests_running gauge",
      'vllm:num_requests_running{model_name="a"} 3',
      'vllm:num_requests_running{model_name="b"} 1',
      'vllm:num_requests_waiting{model_name="a"} 2.0',
      'vllm:gpu_cache_usage_perc{model_name="a"} 0.25',
    ].join("\n")
    expect(parseServerLoad(text)).toEqual({ running: 4, waiting: 2, kvUsage: 0.25 })
  })

  it("reads the V1 cache gauge, and nothing from a text without vLLM gauges", () => {
    expect(parseServerLoad("vllm:num_requests_waiting 0\nvllm:kv_cache_usage_perc 0.9\n")).toEqual({
      running: 0,
      waiting: 0,
      kvUsage: 0.9,
    })
    expect(parseServerLoad("process_cpu_seconds_total 12\n")).toBeUndefined()
    expect(parseServerLoad("")).toBeUndefined()
  })

  it("reads SGLang's gauges", () => {
    const text = [
      'sglang:num_running_reqs{model_name="m"} 5.0',
      'sglang:num_queue_reqs{model_name="m"} 3.0',
      'sglang:token_usage{model_name="m"} 0.5',
    ].join("\n")
    expect(parseServerLoad(text)).toEqual({ running: 5, waiting: 3, kvUsage: 0.5 })
  })
})

describe("load-aware routing", () => {
  const reported = (url: string, running: number, waiting: number, kvUsage = 0, at = 1000) => ({
    ...initialState(url),
    reported: { running, waiting, kvUsage },
    reportedAtMs: at,
  })

  it("counts load other gateway replicas put on a server", () => {
    const busyElsewhere = reported("a", 6, 0)
    const idle = reported("b", 0, 0)
    expect(loadScore(busyElsewhere, 1000)).toBe(6)
    expect(pickEndpoint([busyElsewhere, idle], 1000, new Set(), () => 0)?.url).toBe("b")
  })

  it("does not count this pool's own sequences twice", () => {
    // Two n=4 requests of ours: vLLM runs them as 8 child requests (V0 sequence.py ParallelSampleSequenceGroup) and
    // reports 8 running, which are all ours.
    const own = { ...reported("a", 8, 0), inFlight: 8, inFlightRequests: 2, ownAtReport: 8 }
    expect(loadScore(own, 1000)).toBe(8)
  })

  it("reads a report against this pool's requests when it was taken, not now", () => {
    // The server ran 6 requests, all ours, when it reported; 4 of them have finished since. Counting the report
    // against the current 2 would see 4 requests of other replicas that are not there.
    const stale = { ...reported("a", 6, 0), inFlight: 2, inFlightRequests: 2, ownAtReport: 6 }
    expect(loadScore(stale, 1500)).toBe(2)
    const shared = { ...reported("b", 9, 0), inFlight: 2, inFlightRequests: 2, ownAtReport: 6 }
    expect(loadScore(shared, 1500)).toBe(5)
  })

  it("avoids saturated servers while another is free, and ignores stale reports", () => {
    const queued = reported("a", 1, 6)
    const fullCache = reported("b", 0, 0, 0.95)
    const busyButOpen = { ...reported("c", 0, 0), inFlight: 10 }
    expect(isSaturated(queued, 1000)).toBe(true)
    expect(isSaturated(fullCache, 1000)).toBe(true)
    expect(pickEndpoint([queued, fullCache, busyButOpen], 1000, new Set(), () => 0)?.url).toBe("c")
    const later = 1000 + STALE_AFTER_MS + 1
    expect(isSaturated(queued, later)).toBe(false)
    expect(loadScore(queued, later)).toBe(0)
  })
})
