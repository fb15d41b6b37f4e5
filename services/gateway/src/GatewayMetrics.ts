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

/** The GPU sequences admission lets run at once now (it follows the fleet's up servers). */
export const admissionCapacity = Metric.gauge("stagebeam_admission_capacity", {
  description: "GPU sequences admission lets run at once",
})

/** Calls refused at once because their expected wait and run exceed their deadline. */
export const admissionRefusedLate = Metric.counter("stagebeam_admission_refused_late_total", {
  description: "Calls refused at once because they could not be answered before their deadline",
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

/** 1 while the health service says SERVING (every required pool can answer), else 0. */
export const healthServing = Metric.gauge("stagebeam_health_serving", {
  description: "1 while gRPC health and HTTP /ready say SERVING, else 0",
})

/** Each pool's servers by state: up, down, key_refused (401/403 to its key), model_missing. */
export const poolServers = Metric.gauge("stagebeam_pool_servers", {
  description: "Servers per pool by state (up, down, keyRefused, modelMissing)",
})
