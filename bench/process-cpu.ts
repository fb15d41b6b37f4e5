/**
 * Where a fleet's CPU goes: a closed loop as bench/scaling.ts's fleet section runs it (STAGE_BEAM N=4 with a PNG, 6
 * callers per server, speed 1), and the CPU of each kind of process over the window (/proc/<pid>/stat ticks): the
 * simulators, the gateway, this load generator. Prints one line; asserts nothing.
 * Run: node --conditions=@stagebeam/source bench/process-cpu.ts
 *   SPLIT_SERVERS=<servers> (default 8); SPLIT_SECONDS=<measured seconds> (default 40, after 15 s of warm-up);
 *   SPLIT_GROUP=<simulated servers per process> (default 1; bench/lib/sim-group.ts);
 *   SPLIT_SIM_PROF=<dir>: the simulators run with --cpu-prof there (read with bench/lib/cpuprofile.ts).
 */
import { readFileSync } from "node:fs"
import { makeReasonerClient } from "@stagebeam/proto"
import { Duration, Effect, Fiber } from "effect"
import { benchImage } from "./lib/image.ts"
import { freePort, startGatewayProcess, startSimulatorGroups, startSimulatorProcess } from "./lib/processes.ts"

const SERVERS = Number(process.env.SPLIT_SERVERS ?? 8)
const SECONDS = Number(process.env.SPLIT_SECONDS ?? 40)
const PROF = process.env.SPLIT_SIM_PROF
const cpu = (pid: number | "self") => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(f[11]) + Number(f[12])) / 100
}
if (PROF) process.env.NODE_OPTIONS = `--cpu-prof --cpu-prof-dir=${PROF}`
const GROUP = Number(process.env.SPLIT_GROUP ?? 1)
const sims =
  GROUP > 1
    ? await startSimulatorGroups(await Promise.all(Array.from({ length: SERVERS }, freePort)), 1, GROUP)
    : await Promise.all(
        Array.from({ length: SERVERS }, async (_, i) =>
          startSimulatorProcess(await freePort(), 1, ["--seed", String(i + 1)]),
        ),
      )
const pids = [...new Set(sims.map((s) => s.child.pid!))]
delete process.env.NODE_OPTIONS
const gw = await startGatewayProcess({ STAGEBEAM_ENDPOINTS: sims.map((s) => s.url).join(",") })
let calls = 0
let answers = 0
const program = Effect.gen(function* () {
  const client = yield* makeReasonerClient({ address: gw.address, defaultDeadline: Duration.seconds(60) })
  yield* Effect.sleep("2 seconds")
  const caller = Effect.gen(function* () {
    yield* Effect.result(
      client.Reason({
        question: `Question ${++calls}. Which shape is shown in the image?\nA. circle\nB. square`,
        image: { data: benchImage },
        search: { candidatesPerStage: 4, seed: String(calls) },
      }),
    )
    answers++
  }).pipe(Effect.forever)
  const fibers = yield* Effect.forEach(Array.from({ length: SERVERS * 6 }), () => Effect.forkChild(caller))
  yield* Effect.sleep("15 seconds")
  const a0 = answers
  const s0 = pids.map((pid) => cpu(pid))
  const g0 = cpu(gw.child.pid!)
  const m0 = cpu("self")
  yield* Effect.sleep(Duration.seconds(SECONDS))
  const n = answers - a0
  const simCpu = pids.reduce((sum, pid, i) => sum + cpu(pid) - s0[i]!, 0)
  const gwCpu = cpu(gw.child.pid!) - g0
  const meCpu = cpu("self") - m0
  console.log(
    `group ${GROUP}: ${SERVERS} servers, ${SECONDS} s: ${n} answers (${(n / SECONDS).toFixed(2)}/s); CPU cores: sims ${(simCpu / SECONDS).toFixed(3)} (${((simCpu * 1000) / n).toFixed(1)} ms/answer, ${((simCpu / SECONDS / SERVERS) * 1000).toFixed(1)} ms/s per sim), gateway ${(gwCpu / SECONDS).toFixed(3)} (${((gwCpu * 1000) / n).toFixed(1)} ms/answer), load generator ${(meCpu / SECONDS).toFixed(3)} (${((meCpu * 1000) / n).toFixed(1)} ms/answer)`,
  )
  yield* Effect.forEach(fibers, Fiber.interrupt)
})
await Effect.runPromise(Effect.scoped(program))
gw.child.kill("SIGKILL")
for (const s of sims) s.child.kill("SIGKILL")
process.exit(0)
