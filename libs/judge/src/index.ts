export * from "./BothOrders.ts"
export * from "./FleetGenerator.ts"
export * from "./Judges.ts"
export * from "./PairwiseJudge.ts"
