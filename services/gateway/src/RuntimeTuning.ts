import { setFlagsFromString } from "node:v8"

/**
 * V8 set for a gateway process, before it serves. Scavenges (the young generation's collections, one every few
 * seconds under load, each copying the ~3 MB of calls in flight) run on the main thread alone: spread over V8's
 * helper threads, one cost ~10 ms of the main thread and ~27 ms of the helpers' (--trace-gc-nvp, on this 2-core VM,
 * where the helpers contend with the event loop). Four paired runs of bench/gateway-cpu.ts (this against the same
 * code with parallel scavenges, STAGE_BEAM N=4, PNG and JPEG, both doors) put the CPU per upstream call at 0.95×
 * (16 settings, 0.83–1.06×); the pause grows by the share the helpers did.
 * Set at run time, it applies from the next scavenge on: `--trace-gc-nvp` of a scratch allocation loop shows
 * `background.scavenge.parallel` 22–43 ms per scavenge without it and 0 after `setFlagsFromString`.
 */
export const tuneRuntime = () => setFlagsFromString("--no-parallel-scavenge")
