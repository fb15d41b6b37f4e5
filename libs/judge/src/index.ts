export * from "./BothOrders.ts"
export * from "./LlmJudge.ts"
