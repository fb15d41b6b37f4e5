export { Admission } from "./Admission.ts"
export type { Settings, SettingsInput } from "./config/Settings.ts"
// For tests and benchmarks: the settings service with `layerTest` (over a simulated fleet); main.ts uses neither.
export { GatewaySettings } from "./dev/TestSettings.ts"
export { GatewayLayer, type RunningGateway, serveGateway } from "./Gateway.ts"
export { DeadlinePassed, GatewayConfigError, InvalidField, Overloaded } from "./GatewayErrors.ts"
