// One record per HTTP request: a request split into child requests (vLLM's n > 1) is the sum of its children, as
// vLLM assembles their outputs into one response.
import type { RequestRecord } from "./engine.ts"

const CHILD = /_parallel_sample_\d+$/

/** The id of the HTTP request an engine record belongs to (a child's parent, else its own). */
export const parentId = (engineId: string): string => engineId.replace(CHILD, "")

/** Children merged: every sample and token, the earliest arrival and first token, the latest end. */
export const mergeRecords = (records: ReadonlyArray<RequestRecord>): RequestRecord | undefined => {
  if (records.length <= 1) return records[0]
  const first = records[0]!
  const arrivalMs = Math.min(...records.map((r) => r.arrivalMs))
  const endMs = Math.max(...records.map((r) => r.arrivalMs + r.e2eMs))
  const ttfts = records.flatMap((r) => (r.ttftMs === undefined ? [] : [r.arrivalMs + r.ttftMs - arrivalMs]))
  return {
    id: parentId(first.id),
    outcome: records.every((r) => r.outcome === "finished") ? "finished" : "aborted",
    priority: first.priority,
    samples: records.reduce((sum, r) => sum + r.samples, 0),
    outputTokens: records.reduce((sum, r) => sum + r.outputTokens, 0),
    promptTokens: first.promptTokens,
    arrivalMs,
    queueMs: Math.min(...records.map((r) => r.arrivalMs + r.queueMs - arrivalMs)),
    ttftMs: ttfts.length === 0 ? undefined : Math.min(...ttfts),
    e2eMs: endMs - arrivalMs,
    preemptions: records.reduce((sum, r) => sum + r.preemptions, 0),
    maxBatchSeen: Math.max(...records.map((r) => r.maxBatchSeen)),
  }
}

/** The merged record of the latest request whose id starts with `prefix`, from the engine's recent records. */
export const latestRequest = (recent: ReadonlyArray<RequestRecord>, prefix: string): RequestRecord | undefined => {
  const last = recent.findLast((r) => r.id.startsWith(prefix))
  if (last === undefined) return undefined
  const parent = parentId(last.id)
  return mergeRecords(recent.filter((r) => parentId(r.id) === parent))
}

/** The recent records with each split request merged into one, oldest first. */
export const byRequest = (recent: ReadonlyArray<RequestRecord>): ReadonlyArray<RequestRecord> => {
  const groups = new Map<string, Array<RequestRecord>>()
  for (const r of recent) {
    const parent = parentId(r.id)
    const group = groups.get(parent)
    if (group === undefined) groups.set(parent, [r])
    else group.push(r)
  }
  return [...groups.values()].map((group) => mergeRecords(group)!)
}
