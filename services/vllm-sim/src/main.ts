// CLI: npx vllm-sim --port 8001 --profile NAME --speed 20 ...  Prints one line when listening.
import { parseArgs } from "node:util"
import { type BehaviourName, behaviours } from "./behaviour.ts"
import { decodeFaultConfig } from "./faults.ts"
import { profiles } from "./profiles.ts"
import { type SimulatorOptions, startSimulator } from "./simulator.ts"

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8000" },
    host: { type: "string", default: "127.0.0.1" },
    profile: { type: "string" },
    behaviour: { type: "string" },
    "api-key": { type: "string" },
    speed: { type: "string", default: "1" },
    model: { type: "string" },
    "served-model-name": { type: "string" },
    "max-num-seqs": { type: "string" },
    "judge-accuracy": { type: "string" },
    "position-bias": { type: "string" },
    "judge-noise": { type: "string" },
    task: { type: "string" },
    "reward-noise": { type: "string" },
    "pooling-type": { type: "string" },
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
      "usage: vllm-sim [--port 8000] [--host 127.0.0.1] [--profile NAME] [--behaviour NAME] [--speed 1] [--model NAME]\n" +
        "                [--api-key KEY] [--max-num-seqs N]\n" +
        "                [--judge-accuracy P] [--position-bias 0] [--judge-noise 0.15] [--error-format nested|flat]\n" +
        "                [--task generate|reward|score] [--reward-noise 0.5] [--pooling-type ALL|LAST]\n" +
        "                [--scheduling-policy fcfs|priority] [--max-waiting-requests N] [--faults JSON] [--seed N]",
    )
  console.log("performance profiles (--profile):")
  for (const p of profiles.values()) console.log(`  ${p.name}\t${p.description}`)
  console.log("behaviours (--behaviour):")
  for (const b of behaviours.values()) console.log(`  ${b.name}\t${b.description}`)
  process.exit(0)
}

/** A numeric flag: absent, or a finite number (within `[min, max]`); anything else stops here, naming the flag. */
const num = (flag: string, min = -Infinity, max = Infinity, integer = false): number | undefined => {
  const raw = (values as Record<string, unknown>)[flag]
  if (raw === undefined) return undefined
  const value = Number(raw)
  if (
    typeof raw !== "string" ||
    raw.trim() === "" ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    const range = max === Infinity ? `≥ ${min}` : `in [${min}, ${max}]`
    console.error(`invalid --${flag} ${JSON.stringify(raw)}: expected ${integer ? "an integer" : "a number"} ${range}`)
    process.exit(2)
  }
  return value
}
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
const oneOf = (flag: string, value: string | undefined, allowed: ReadonlyArray<string>) => {
  if (value !== undefined && !allowed.includes(value)) {
    console.error(`invalid --${flag} ${JSON.stringify(value)}: expected one of ${allowed.join(", ")}`)
    process.exit(2)
  }
}
oneOf("error-format", errorFormat, ["nested", "flat"])
oneOf("scheduling-policy", policy, ["fcfs", "priority"])
oneOf("behaviour", values.behaviour, [...behaviours.keys()])
oneOf("task", values.task, ["generate", "reward", "score"])
oneOf("pooling-type", values["pooling-type"], ["ALL", "LAST"])
// vLLM also reads its key from VLLM_API_KEY.
const apiKey = values["api-key"] ?? process.env.VLLM_API_KEY
const options: SimulatorOptions = {
  port: num("port", 0, 65535, true)!,
  host: values.host,
  speed: num("speed", Number.MIN_VALUE)!,
  ...(values.profile !== undefined && { profile: values.profile }),
  ...(values.behaviour !== undefined && { behaviour: values.behaviour as BehaviourName }),
  ...(apiKey !== undefined && apiKey !== "" && { apiKey }),
  ...((values.model ?? values["served-model-name"]) !== undefined && {
    model: (values.model ?? values["served-model-name"])!,
  }),
  ...(num("max-num-seqs", 1, Infinity, true) !== undefined && { maxNumSeqs: num("max-num-seqs", 1, Infinity, true)! }),
  ...(num("judge-accuracy", 0, 1) !== undefined && { judgeAccuracy: num("judge-accuracy", 0, 1)! }),
  ...(num("position-bias", -1, 1) !== undefined && { positionBias: num("position-bias", -1, 1)! }),
  ...(num("judge-noise", 0) !== undefined && { judgeNoise: num("judge-noise", 0)! }),
  ...(values.task !== undefined && { task: values.task as "generate" | "reward" | "score" }),
  ...(num("reward-noise", 0) !== undefined && { rewardNoise: num("reward-noise", 0)! }),
  ...(values["pooling-type"] !== undefined && { poolingType: values["pooling-type"] as "ALL" | "LAST" }),
  ...((errorFormat === "flat" || errorFormat === "nested") && { errorFormat }),
  ...((policy === "fcfs" || policy === "priority") && { schedulingPolicy: policy }),
  ...(num("max-waiting-requests", 0, Infinity, true) !== undefined && {
    maxWaitingRequests: num("max-waiting-requests", 0, Infinity, true)!,
  }),
  ...(num("seed", 0, 0xffff_ffff, true) !== undefined && { seed: num("seed", 0, 0xffff_ffff, true)! }),
  ...(faults !== undefined && { faults }),
}

const sim = await startSimulator(options)
console.log(
  `vllm-sim listening on ${sim.url} (profile ${sim.profile.name}, behaviour ${sim.behaviour.name}, speed ${options.speed})`,
)
const shutdown = () => {
  sim.close().then(() => process.exit(0))
}
process.on("SIGINT", shutdown)
process.on("SIGTERM", shutdown)
