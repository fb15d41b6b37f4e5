export * from "./Services.ts"
