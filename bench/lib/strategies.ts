// The search configurations the benchmarks compare, as ReasonRequest search options.
import type { ReasonRequest } from "@stagebeam/proto"

export interface StrategyConfig {
  readonly label: string
  readonly search: NonNullable<ReasonRequest["search"]>
}

export const greedy: StrategyConfig = { label: "GREEDY (1 sample)", search: { strategy: "STRATEGY_GREEDY" } }

export const bestOfN = (n: number): StrategyConfig => ({
  label: `BEST_OF_N N=${n}`,
  search: { strategy: "STRATEGY_BEST_OF_N", candidatesPerStage: n, tournament: "TOURNAMENT_KNOCKOUT" },
})

export const stageBeam = (n: number, tournament: "KNOCKOUT" | "SEQUENTIAL" = "KNOCKOUT"): StrategyConfig => ({
  label: `STAGE_BEAM N=${n}${tournament === "KNOCKOUT" ? "" : " SEQ"}`,
  search: { strategy: "STRATEGY_STAGE_BEAM", candidatesPerStage: n, tournament: `TOURNAMENT_${tournament}` },
})
