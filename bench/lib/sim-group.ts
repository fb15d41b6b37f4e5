// Several simulated servers in one process (a benchmark's fleet on few cores): each its own vllm-sim on its own
// port, engine and seed, as if started alone; they share the process's event loop and runtime (its start-up, its
// garbage collector, its idle wakeups), not their state.
// Run: node --conditions=@stagebeam/source bench/lib/sim-group.ts --speed 1 --ports 8001,8002 [--seeds 1,2]
import { parseArgs } from "node:util"
import { startSimulator } from "@stagebeam/vllm-sim"

const { values } = parseArgs({
  options: { ports: { type: "string" }, seeds: { type: "string" }, speed: { type: "string", default: "1" } },
})
const ports = (values.ports ?? "").split(",").map(Number)
const seeds = values.seeds === undefined ? [] : values.seeds.split(",").map(Number)
if (ports.length === 0 || ports.some((port) => !Number.isInteger(port) || port <= 0)) {
  console.error(`--ports: a comma-separated list of ports, got "${values.ports}"`)
  process.exit(2)
}
const speed = Number(values.speed)
const sims = await Promise.all(
  ports.map((port, i) => startSimulator({ port, speed, ...(seeds[i] !== undefined && { seed: seeds[i] }) })),
)
for (const sim of sims)
  console.log(`vllm-sim listening on ${sim.url} (speed ${speed}, one of ${sims.length} in this process)`)
const shutdown = () => {
  Promise.all(sims.map((sim) => sim.close())).then(() => process.exit(0))
}
process.on("SIGINT", shutdown)
process.on("SIGTERM", shutdown)
