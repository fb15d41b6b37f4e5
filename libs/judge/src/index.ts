export * from "./LlmJudge.ts"
