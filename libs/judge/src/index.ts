export * from "./Judges.ts"
export * from "./LlmJudge.ts"
