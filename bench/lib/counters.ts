// The simulator's cost counters summed over servers, and the difference between two readings.
import type { RunningSimulator } from "@stagebeam/vllm-sim"

export interface Counters {
  readonly busyGpuSeconds: number
  readonly prefillGpuSeconds: number
  readonly decodeGpuSeconds: number
  readonly prefillTokens: number
  readonly decodeTokens: number
  readonly generationTokens: number
  readonly imagesEncoded: number
  readonly requests: number
  readonly preemptions: number
}

export const readCounters = (servers: ReadonlyArray<RunningSimulator>): Counters =>
  servers
    .map((server): Counters => {
      const s = server.stats()
      return {
        busyGpuSeconds: s.busyGpuSeconds,
        prefillGpuSeconds: s.prefillGpuSeconds,
        decodeGpuSeconds: s.decodeGpuSeconds,
        prefillTokens: s.prefillTokens,
        decodeTokens: s.decodeTokens,
        generationTokens: s.generationTokens,
        imagesEncoded: s.imagesEncoded,
        requests: s.requests.finished,
        preemptions: s.preemptions,
      }
    })
    .reduce(combine((a, b) => a + b))

const keys = [
  "busyGpuSeconds",
  "prefillGpuSeconds",
  "decodeGpuSeconds",
  "prefillTokens",
  "decodeTokens",
  "generationTokens",
  "imagesEncoded",
  "requests",
  "preemptions",
] as const

const combine =
  (f: (a: number, b: number) => number) =>
  (a: Counters, b: Counters): Counters =>
    Object.fromEntries(keys.map((k) => [k, f(a[k], b[k])])) as unknown as Counters

/** `after − before`. */
export const difference = (after: Counters, before: Counters): Counters => combine((a, b) => a - b)(after, before)
