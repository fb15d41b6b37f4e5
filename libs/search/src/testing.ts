/** Test-only services (deterministic fakes of the generator and the judges): `@stagebeam/search/testing`. */
export * from "./Fakes.ts"
