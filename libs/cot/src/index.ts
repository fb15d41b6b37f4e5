export * from "./Stage.ts"
