// The virtual-time engine: continuous batching as vLLM's V0 scheduler does it (prefill steps first, then decode
// steps over every running sequence), a KV cache counted in blocks with recompute preemption, optional prefix
// caching, and `--scheduling-policy priority` as V0 schedules it (vllm/core/scheduler.py
// `_schedule_priority_preemption`: queues ordered by (priority, arrival); a waiting request that cannot be scheduled
// preempts running requests of lower priority, lowest first). Steps chain back to back in virtual time; wall-clock timers only decide when results become visible,
// so durations stay exact however late a timer fires. This is the hot loop: plain local mutable data by design.
import { type Profile, predictDecodeStepMs, predictPrefillMs } from "./profiles.ts"

export interface EngineSubmission {
  readonly id: string
  readonly priority: number
  /** Decoder prompt tokens (text plus one image placeholder per image). */
  readonly textTokens: number
  readonly images: number
  /** The images' tiles in all: each costs the vision encoder's time at prefill and cross-attention KV slots. */
  readonly imageTiles: number
  /** Chained hashes of the prompt's full blocks (for prefix caching). */
  readonly blockHashes: ReadonlyArray<number>
  /** Output tokens each sample will produce (the content is decided up front). */
  readonly sampleTokens: ReadonlyArray<number>
  /** Called after every step that changed this request, and once more when it is done. */
  readonly onUpdate: (view: RequestView) => void
}

export interface RequestView {
  readonly id: string
  readonly generated: ReadonlyArray<number>
  readonly done: boolean
  readonly firstTokenAtMs: number | undefined
}

export type Outcome = "finished" | "aborted"

export interface RequestRecord {
  readonly id: string
  readonly outcome: Outcome
  /** The request's `priority` as the engine scheduled it (0 unless the server takes priorities). */
  readonly priority: number
  readonly samples: number
  readonly outputTokens: number
  readonly promptTokens: number
  readonly arrivalMs: number
  readonly queueMs: number
  readonly ttftMs: number | undefined
  readonly e2eMs: number
  readonly preemptions: number
  /** The running batch size of each decode step this request took part in. */
  readonly maxBatchSeen: number
}

export interface Histogram {
  readonly buckets: ReadonlyArray<number>
  readonly counts: Array<number>
  sum: number
  count: number
}

const makeHistogram = (buckets: ReadonlyArray<number>): Histogram => ({
  buckets,
  counts: buckets.map(() => 0),
  sum: 0,
  count: 0,
})

const observe = (h: Histogram, value: number) => {
  h.sum += value
  h.count += 1
  for (let i = 0; i < h.buckets.length; i++) if (value <= h.buckets[i]!) h.counts[i]! += 1
}

export interface EngineStats {
  busyMs: number
  prefillMs: number
  decodeMs: number
  prefillSteps: number
  decodeSteps: number
  prefillTokens: number
  cachedPrefillTokens: number
  decodeTokens: number
  imagesEncoded: number
  imageTilesEncoded: number
  preemptions: number
  finished: number
  aborted: number
  prefixQueries: number
  prefixHits: number
  promptTokensTotal: number
  generationTokensTotal: number
  maxRunningSeqs: number
  maxWaitingRequests: number
  readonly ttft: Histogram
  readonly tpot: Histogram
  readonly e2e: Histogram
  readonly queue: Histogram
  readonly recent: Array<RequestRecord>
}

interface Req {
  readonly sub: EngineSubmission
  readonly arrivalMs: number
  readonly seq: number
  readonly generated: Array<number>
  readonly promptKvTokens: number
  state: "waiting" | "running" | "done"
  admittedAtMs: number | undefined
  firstTokenAtMs: number | undefined
  preemptions: number
  maxBatchSeen: number
  /** KV blocks this request holds right now. */
  blocks: number
}

interface Step {
  readonly kind: "prefill" | "decode"
  readonly startMs: number
  readonly endMs: number
  readonly members: ReadonlyArray<Req>
}

export interface EngineOptions {
  readonly profile: Profile
  readonly maxNumSeqs: number
  readonly speed: number
  /** vLLM's --scheduling-policy: "fcfs" (default) or "priority" (lower `priority` first, with preemption). */
  readonly schedulingPolicy?: "fcfs" | "priority"
  /** Smallest wall-clock gap between two wake-ups; many steps are processed per wake-up at high speed. */
  readonly minWakeMs?: number
  readonly recentLimit?: number
}

export interface Engine {
  readonly submit: (sub: EngineSubmission) => void
  readonly submitAll: (subs: ReadonlyArray<EngineSubmission>) => void
  readonly abort: (id: string) => boolean
  readonly nowMs: () => number
  readonly runningSeqs: () => number
  readonly runningRequests: () => number
  readonly waitingRequests: () => number
  readonly kvUsage: () => number
  readonly stats: EngineStats
  readonly record: (id: string) => RequestRecord | undefined
  readonly close: () => void
}

const secondsBuckets = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80,
]

export const makeEngine = (options: EngineOptions): Engine => {
  const { profile, maxNumSeqs, speed } = options
  const byPriority = options.schedulingPolicy === "priority"
  const minWakeMs = options.minWakeMs ?? 1
  const recentLimit = options.recentLimit ?? 2000
  const totalBlocks = Math.floor(profile.kvCapacityTokens / profile.blockSize)
  const watermarkBlocks = Math.ceil(totalBlocks * 0.01)
  const maxBatchedTokens = Math.max(profile.maxModelLen, 2048)
  const wallStart = performance.now()
  const nowMs = () => (performance.now() - wallStart) * speed

  const waiting: Array<Req> = []
  const running: Array<Req> = []
  const byId = new Map<string, Req>()
  const prefixCache = new Map<number, true>()
  const prefixCacheLimit = Math.max(16, Math.floor(totalBlocks / 2))
  const records = new Map<string, RequestRecord>()
  let usedBlocks = 0
  let seqCounter = 0
  let current: Step | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let closed = false

  const stats: EngineStats = {
    busyMs: 0,
    prefillMs: 0,
    decodeMs: 0,
    prefillSteps: 0,
    decodeSteps: 0,
    prefillTokens: 0,
    cachedPrefillTokens: 0,
    decodeTokens: 0,
    imagesEncoded: 0,
    imageTilesEncoded: 0,
    preemptions: 0,
    finished: 0,
    aborted: 0,
    prefixQueries: 0,
    prefixHits: 0,
    promptTokensTotal: 0,
    generationTokensTotal: 0,
    maxRunningSeqs: 0,
    maxWaitingRequests: 0,
    ttft: makeHistogram(secondsBuckets),
    tpot: makeHistogram([0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1]),
    e2e: makeHistogram(secondsBuckets),
    queue: makeHistogram(secondsBuckets),
    recent: [],
  }

  const blocksFor = (tokens: number) => Math.ceil(tokens / profile.blockSize)
  const unfinished = (r: Req) => {
    let k = 0
    for (let i = 0; i < r.generated.length; i++) if (r.generated[i]! < r.sub.sampleTokens[i]!) k++
    return k
  }
  /** Blocks a request needs to run: shared prompt blocks plus each unfinished sample's own output blocks. */
  const blocksNeeded = (r: Req) => {
    let b = blocksFor(r.promptKvTokens)
    for (let i = 0; i < r.generated.length; i++)
      if (r.generated[i]! < r.sub.sampleTokens[i]!) b += blocksFor(r.generated[i]!)
    return b
  }
  const runningSeqs = () => {
    let k = 0
    for (const r of running) k += unfinished(r)
    return k
  }

  const remember = (rec: RequestRecord) => {
    records.set(rec.id, rec)
    stats.recent.push(rec)
    if (stats.recent.length > recentLimit) {
      const old = stats.recent.shift()!
      if (records.get(old.id) === old) records.delete(old.id)
    }
  }

  const finish = (r: Req, atMs: number, outcome: Outcome) => {
    if (r.state === "running") {
      usedBlocks -= r.blocks
      r.blocks = 0
      running.splice(running.indexOf(r), 1)
    } else if (r.state === "waiting") waiting.splice(waiting.indexOf(r), 1)
    r.state = "done"
    byId.delete(r.sub.id)
    const outputTokens = r.generated.reduce((a, b) => a + b, 0)
    const e2eMs = atMs - r.arrivalMs
    const queueMs = (r.admittedAtMs ?? atMs) - r.arrivalMs
    const ttftMs = r.firstTokenAtMs === undefined ? undefined : r.firstTokenAtMs - r.arrivalMs
    if (outcome === "finished") {
      stats.finished += 1
      observe(stats.e2e, e2eMs / 1000)
      observe(stats.queue, queueMs / 1000)
      if (ttftMs !== undefined) observe(stats.ttft, ttftMs / 1000)
      const maxTokens = Math.max(...r.generated)
      if (ttftMs !== undefined && maxTokens > 1) observe(stats.tpot, (e2eMs - ttftMs) / 1000 / (maxTokens - 1))
    } else stats.aborted += 1
    remember({
      id: r.sub.id,
      outcome,
      priority: r.sub.priority,
      samples: r.generated.length,
      outputTokens,
      promptTokens: r.sub.textTokens,
      arrivalMs: r.arrivalMs,
      queueMs,
      ttftMs,
      e2eMs,
      preemptions: r.preemptions,
      maxBatchSeen: r.maxBatchSeen,
    })
  }

  const notify = (r: Req) => {
    r.sub.onUpdate({ id: r.sub.id, generated: r.generated, done: r.state === "done", firstTokenAtMs: r.firstTokenAtMs })
  }

  /** vLLM's `_get_priority`: (priority, arrival time); the submission order breaks ties of equal arrival. */
  const before = (a: Req, b: Req) =>
    a.sub.priority !== b.sub.priority
      ? a.sub.priority < b.sub.priority
      : a.arrivalMs !== b.arrivalMs
        ? a.arrivalMs < b.arrivalMs
        : a.seq < b.seq

  /**
   * A new request joins the queue's tail; a preempted one goes back to its head (FCFS), or, under the priority
   * policy, to its place by (priority, arrival), as V0 re-sorts the waiting queue after preempting.
   */
  const insertWaiting = (r: Req, preempted: boolean) => {
    if (!byPriority) {
      if (preempted) waiting.unshift(r)
      else waiting.push(r)
      return
    }
    let i = waiting.length
    while (i > 0 && before(r, waiting[i - 1]!)) i--
    waiting.splice(i, 0, r)
  }

  const preempt = (victim: Req) => {
    usedBlocks -= victim.blocks
    victim.blocks = 0
    running.splice(running.indexOf(victim), 1)
    victim.state = "waiting"
    victim.preemptions += 1
    stats.preemptions += 1
    insertWaiting(victim, true)
  }

  /** The running request preempted first: the newest under FCFS, the lowest (priority, arrival) under priority. */
  const nextVictim = (): Req => {
    let victim = running[running.length - 1]!
    if (byPriority) for (const r of running) if (before(victim, r)) victim = r
    return victim
  }

  const prefixHitTokens = (r: Req): number => {
    if (!profile.prefixCaching || r.preemptions > 0) return 0
    let hits = 0
    for (const h of r.sub.blockHashes) {
      if (!prefixCache.has(h)) break
      hits++
    }
    for (const h of r.sub.blockHashes) {
      prefixCache.delete(h)
      prefixCache.set(h, true)
    }
    while (prefixCache.size > prefixCacheLimit) prefixCache.delete(prefixCache.keys().next().value!)
    stats.prefixQueries += r.sub.textTokens
    // The last prompt token is always recomputed, as in vLLM.
    const cached = Math.min(hits * profile.blockSize, r.sub.textTokens - 1)
    stats.prefixHits += Math.max(0, cached)
    return Math.max(0, cached)
  }

  const planPrefill = (atMs: number): Step | undefined => {
    const admitted: Array<Req> = []
    let seqs = runningSeqs()
    let batchedTokens = 0
    let durationMs = profile.prefillBaseMs
    while (waiting.length > 0) {
      const r = waiting[0]!
      const need = unfinished(r)
      const recomputed = r.generated.reduce((a, b) => a + b, 0)
      const tokens = r.sub.textTokens + recomputed
      const blocks = blocksNeeded(r)
      if (seqs + need > maxNumSeqs) break
      if (usedBlocks + blocks > totalBlocks - watermarkBlocks) break
      if (admitted.length > 0 && batchedTokens + tokens > maxBatchedTokens) break
      waiting.shift()
      const cached = prefixHitTokens(r)
      durationMs += predictPrefillMs(profile, tokens - cached, r.sub.imageTiles) - profile.prefillBaseMs
      stats.prefillTokens += tokens - cached
      stats.cachedPrefillTokens += cached
      stats.imagesEncoded += r.sub.images
      stats.imageTilesEncoded += r.sub.imageTiles
      if (r.preemptions === 0) stats.promptTokensTotal += r.sub.textTokens
      batchedTokens += tokens
      seqs += need
      usedBlocks += blocks
      r.blocks = blocks
      r.state = "running"
      r.admittedAtMs ??= atMs
      running.push(r)
      admitted.push(r)
    }
    if (admitted.length === 0) return undefined
    return { kind: "prefill", startMs: atMs, endMs: atMs + durationMs, members: admitted }
  }

  /** Before a decode step every sample that starts a new block needs one; preempt the newest request until they fit. */
  const reserveDecodeBlocks = () => {
    const newBlocks = (r: Req) => {
      let k = 0
      for (let i = 0; i < r.generated.length; i++) {
        const g = r.generated[i]!
        if (g < r.sub.sampleTokens[i]! && g % profile.blockSize === 0) k++
      }
      return k
    }
    for (;;) {
      let needed = 0
      for (const r of running) needed += newBlocks(r)
      if (usedBlocks + needed <= totalBlocks || running.length <= 1) {
        for (const r of running) r.blocks += newBlocks(r)
        usedBlocks += needed
        return
      }
      preempt(nextVictim())
    }
  }

  /**
   * The priority policy's preemption (V0 `_schedule_priority_preemption`, run when no prefill could be scheduled):
   * while the head of the queue cannot be scheduled (slots or KV blocks) and a running request has a lower
   * priority, preempt the lowest one. Returns whether anything was preempted.
   */
  const preemptForWaiting = (): boolean => {
    const head = waiting[0]
    if (!byPriority || head === undefined) return false
    let preempted = false
    for (;;) {
      const victim = running.length === 0 ? undefined : nextVictim()
      if (victim === undefined || !before(head, victim)) return preempted
      const fits =
        runningSeqs() + unfinished(head) <= maxNumSeqs &&
        usedBlocks + blocksNeeded(head) <= totalBlocks - watermarkBlocks
      if (fits) return preempted
      preempt(victim)
      preempted = true
    }
  }

  const planDecode = (atMs: number): Step | undefined => {
    if (running.length === 0) return undefined
    reserveDecodeBlocks()
    let batch = 0
    let context = 0
    for (const r of running)
      for (let i = 0; i < r.generated.length; i++)
        if (r.generated[i]! < r.sub.sampleTokens[i]!) {
          batch++
          context += r.sub.textTokens + r.generated[i]!
        }
    for (const r of running) if (batch > r.maxBatchSeen) r.maxBatchSeen = batch
    const durationMs = predictDecodeStepMs(profile, batch, context)
    return { kind: "decode", startMs: atMs, endMs: atMs + durationMs, members: running.slice() }
  }

  const plan = (atMs: number): Step | undefined => {
    let step = planPrefill(atMs)
    // Requests preempted here leave this step's decode batch; the head is prefilled next (at once if none is left).
    if (step === undefined && preemptForWaiting()) step = planDecode(atMs) ?? planPrefill(atMs)
    step ??= planDecode(atMs)
    const seqs = runningSeqs()
    if (seqs > stats.maxRunningSeqs) stats.maxRunningSeqs = seqs
    if (waiting.length > stats.maxWaitingRequests) stats.maxWaitingRequests = waiting.length
    return step
  }

  const complete = (step: Step) => {
    const d = step.endMs - step.startMs
    stats.busyMs += d
    if (step.kind === "prefill") {
      stats.prefillMs += d
      stats.prefillSteps += 1
    } else {
      stats.decodeMs += d
      stats.decodeSteps += 1
    }
    for (const r of step.members) {
      if (r.state !== "running") continue // aborted or preempted while the step ran
      for (let i = 0; i < r.generated.length; i++) {
        const g = r.generated[i]!
        if (g < r.sub.sampleTokens[i]!) {
          // Decode steps reserved this token's block beforehand; the prefill's first token takes one here.
          if (step.kind === "prefill" && g % profile.blockSize === 0) {
            r.blocks += 1
            usedBlocks += 1
          }
          r.generated[i] = g + 1
          if (step.kind === "decode") stats.decodeTokens += 1
          stats.generationTokensTotal += 1
          // A sample that just finished frees its own blocks at once.
          if (g + 1 >= r.sub.sampleTokens[i]!) {
            r.blocks -= blocksFor(g + 1)
            usedBlocks -= blocksFor(g + 1)
          }
        }
      }
      r.firstTokenAtMs ??= step.endMs
      // The shared prompt blocks go with the last sample.
      if (unfinished(r) === 0) finish(r, step.endMs, "finished")
      notify(r)
    }
  }

  const advance = (toMs: number) => {
    while (current !== undefined && current.endMs <= toMs) {
      const done = current
      complete(done)
      current = plan(done.endMs)
    }
  }

  const wake = () => {
    timer = undefined
    if (closed) return
    advance(nowMs())
    arm()
  }

  const arm = () => {
    if (closed || current === undefined || timer !== undefined) return
    const wallMs = Math.max(minWakeMs, (current.endMs - nowMs()) / speed)
    timer = setTimeout(wake, wallMs)
  }

  /**
   * Requests arriving together (a V0 request's n children, which add_request queues in one go): all wait before the
   * scheduler next plans, so an idle engine prefills them in one step.
   */
  const submitAll = (subs: ReadonlyArray<EngineSubmission>) => {
    const at = nowMs()
    advance(at)
    for (const sub of subs) enqueue(sub, at)
    if (current === undefined) current = plan(at)
    else if (waiting.length > stats.maxWaitingRequests) stats.maxWaitingRequests = waiting.length
    arm()
  }

  const enqueue = (sub: EngineSubmission, at: number) => {
    const r: Req = {
      sub,
      arrivalMs: at,
      seq: seqCounter++,
      generated: sub.sampleTokens.map(() => 0),
      promptKvTokens: sub.textTokens + sub.imageTiles * profile.crossKvTokensPerTile,
      state: "waiting",
      admittedAtMs: undefined,
      firstTokenAtMs: undefined,
      preemptions: 0,
      maxBatchSeen: 0,
      blocks: 0,
    }
    byId.set(sub.id, r)
    insertWaiting(r, false)
  }

  const submit = (sub: EngineSubmission) => submitAll([sub])

  const abort = (id: string): boolean => {
    const r = byId.get(id)
    if (r === undefined) return false
    const at = nowMs()
    advance(at)
    if (r.state === "done") return false
    finish(r, at, "aborted")
    arm()
    return true
  }

  return {
    submit,
    submitAll,
    abort,
    nowMs,
    runningSeqs,
    runningRequests: () => running.length,
    waitingRequests: () => waiting.length,
    kvUsage: () => Math.max(0, usedBlocks) / totalBlocks,
    stats,
    record: (id) => records.get(id),
    close: () => {
      closed = true
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
    },
  }
}
