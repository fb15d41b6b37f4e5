// CLI: npx vllm-sim --port 8001 --profile NAME --speed 20 ...  Prints one line when listening.
import { parseArgs } from "node:util"
import { decodeFaultConfig } from "./faults.ts"
import { profiles } from "./profiles.ts"
import { type SimulatorOptions, startSimulator } from "./simulator.ts"

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8000" },
    host: { type: "string", default: "127.0.0.1" },
    profile: { type: "string" },
    speed: { type: "string", default: "1" },
    model: { type: "string" },
    "served-model-name": { type: "string" },
    "max-num-seqs": { type: "string" },
    "judge-accuracy": { type: "string" },
    "position-bias": { type: "string" },
    "error-format": { type: "string" },
    "scheduling-policy": { type: "string" },
    "max-waiting-requests": { type: "string" },
    faults: { type: "string" },
    seed: { type: "string" },
    "list-profiles": { type: "boolean" },
    help: { type: "boolean" },
  },
})

if (values.help === true || values["list-profiles"] === true) {
  if (values.help === true)
    console.log(
      "usage: vllm-sim [--port 8000] [--host 127.0.0.1] [--profile NAME] [--speed 1] [--model NAME] [--max-num-seqs N]\n" +
        "                [--judge-accuracy 0.8] [--position-bias 0] [--error-format nested|flat]\n" +
        "                [--scheduling-policy fcfs|priority] [--max-waiting-requests N] [--faults JSON] [--seed N]",
    )
  for (const p of profiles.values()) console.log(`${p.name}\t${p.description}`)
  process.exit(0)
}

const num = (v: string | undefined) => (v === undefined ? undefined : Number(v))
let faults: SimulatorOptions["faults"]
if (values.faults !== undefined) {
  const decoded = decodeFaultConfig(JSON.parse(values.faults))
  if (decoded._tag === "Failure") {
    console.error(`invalid --faults: ${decoded.failure.message}`)
    process.exit(2)
  }
  faults = decoded.success
}
const errorFormat = values["error-format"]
const policy = values["scheduling-policy"]
const options: SimulatorOptions = {
  port: Number(values.port),
  host: values.host,
  speed: Number(values.speed),
  ...(values.profile !== undefined && { profile: values.profile }),
  ...((values.model ?? values["served-model-name"]) !== undefined && {
    model: (values.model ?? values["served-model-name"])!,
  }),
  ...(num(values["max-num-seqs"]) !== undefined && { maxNumSeqs: num(values["max-num-seqs"])! }),
  ...(num(values["judge-accuracy"]) !== undefined && { judgeAccuracy: num(values["judge-accuracy"])! }),
  ...(num(values["position-bias"]) !== undefined && { positionBias: num(values["position-bias"])! }),
  ...((errorFormat === "flat" || errorFormat === "nested") && { errorFormat }),
  ...((policy === "fcfs" || policy === "priority") && { schedulingPolicy: policy }),
  ...(num(values["max-waiting-requests"]) !== undefined && {
    maxWaitingRequests: num(values["max-waiting-requests"])!,
  }),
  ...(num(values.seed) !== undefined && { seed: num(values.seed)! }),
  ...(faults !== undefined && { faults }),
}

const sim = await startSimulator(options)
console.log(`vllm-sim listening on ${sim.url} (profile ${sim.profile.name}, speed ${options.speed})`)
const shutdown = () => {
  sim.close().then(() => process.exit(0))
}
process.on("SIGINT", shutdown)
process.on("SIGTERM", shutdown)
