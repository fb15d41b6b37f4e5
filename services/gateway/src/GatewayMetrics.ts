import { Metric } from "effect"

/** Reason calls by method and outcome ("OK" or the gRPC status name). */
export const reasonCalls = Metric.counter("stagebeam_reason_calls_total", {
  description: "Reason and ReasonStream calls by method and outcome",
})

/** Time from a call's arrival to its answer, queueing included. */
export const reasonDuration = Metric.histogram("stagebeam_reason_duration_seconds", {
  description: "Reason call latency, admission queue included",
  boundaries: Metric.exponentialBoundaries({ start: 0.25, factor: 2, count: 12 }),
})

/** Calls waiting for admission. */
export const admissionWaiting = Metric.gauge("stagebeam_admission_waiting", {
  description: "Calls waiting for admission",
})

/** GPU sequences held by running searches. */
export const admissionSequences = Metric.gauge("stagebeam_admission_sequences", {
  description: "GPU sequences held by running searches",
})

/** Servers of each pool that are up (health probe and passive ejection). */
export const endpointsUp = Metric.gauge("stagebeam_endpoints_up", {
  description: "Up servers per pool",
})

/** Image bytes held by calls waiting or running (a URL image counts as images.maxBytes until it is fetched). */
export const admissionHeldBytes = Metric.gauge("stagebeam_admission_held_bytes", {
  description: "Image bytes held by calls waiting or running",
})

/** Images refused: inline ("data") or by URL ("url"), which all get the same answer. */
export const imagesRefused = Metric.counter("stagebeam_images_refused_total", {
  description: "Images refused, by source",
})
