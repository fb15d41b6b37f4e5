import type { SearchOptions } from "@stagebeam/proto"
import { Effect } from "effect"
import { CliFailure, EXIT } from "../ExitCodes.ts"

const STRATEGY = {
  greedy: "STRATEGY_GREEDY",
  best_of_n: "STRATEGY_BEST_OF_N",
  stage_beam: "STRATEGY_STAGE_BEAM",
  sentence_beam: "STRATEGY_SENTENCE_BEAM",
  swires: "STRATEGY_SWIRES",
} as const

/** One configuration an evaluation runs: its label in the results, and the search it asks for. */
export interface EvalStrategy {
  readonly label: string
  readonly search: SearchOptions
  /** A declared judge by name (`@NAME`); the gateway's default when absent. */
  readonly judge?: string
  /** Its own sampling temperature (`/T`), over --temperature. */
  readonly temperature?: number
}

/**
 * Parses `greedy/0,best_of_n:4,stage_beam:2,stage_beam:4:sequential,swires:4@reward`: a strategy, optionally its N,
 * optionally the tournament, optionally `/` its own sampling temperature (`greedy/0`: a true greedy baseline),
 * optionally `@` a judge by name. The label (e.g. `greedy-t0`, `stage_beam-4`, `swires-4@reward`) names the
 * configuration in the JSONL, so a resumed run matches rows.
 */
export const parseStrategies = (spec: string, preset: "default" | "reference") =>
  Effect.forEach(
    spec
      .split(",")
      .map((part) => part.trim())
      .filter((part) => part !== ""),
    (part) => {
      const [withTemperature = "", judge, ...extra] = part.split("@")
      const [spec = "", temperatureText, ...moreSlashes] = withTemperature.split("/")
      const temperature = temperatureText === undefined ? undefined : Number(temperatureText)
      const [name = "", n, tournament] = spec.split(":")
      const strategy = STRATEGY[name as keyof typeof STRATEGY]
      const candidates = n === undefined ? 4 : Number(n)
      if (
        strategy === undefined ||
        !Number.isInteger(candidates) ||
        candidates < 1 ||
        (tournament !== undefined && tournament !== "knockout" && tournament !== "sequential") ||
        judge === "" ||
        extra.length > 0 ||
        moreSlashes.length > 0 ||
        (temperature !== undefined && (temperatureText === "" || !Number.isFinite(temperature) || temperature < 0))
      ) {
        return Effect.fail(
          new CliFailure({
            message: `--strategies: "${part}" is not STRATEGY[:N[:knockout|sequential]][/TEMPERATURE][@JUDGE] (strategies: ${Object.keys(STRATEGY).join(", ")})`,
            exitCode: EXIT.usage,
          }),
        )
      }
      const label = `${name}${name === "greedy" ? "" : `-${candidates}`}${tournament === undefined ? "" : `-${tournament}`}${temperature === undefined ? "" : `-t${temperature}`}${preset === "reference" ? "-reference" : ""}${judge === undefined ? "" : `@${judge}`}`
      return Effect.succeed<EvalStrategy>({
        label,
        ...(judge === undefined ? {} : { judge }),
        ...(temperature === undefined ? {} : { temperature }),
        search: {
          strategy,
          candidatesPerStage: name === "greedy" ? 1 : candidates,
          preset: preset === "reference" ? "PRESET_REFERENCE" : "PRESET_DEFAULT",
          ...(tournament === undefined
            ? {}
            : { tournament: tournament === "knockout" ? "TOURNAMENT_KNOCKOUT" : "TOURNAMENT_SEQUENTIAL" }),
        },
      })
    },
  )
