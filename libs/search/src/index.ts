export * from "./Seeds.ts"
export * from "./Services.ts"
export * from "./Tournament.ts"
