export { Admission } from "./Admission.ts"
export { type RunningGateway, serveGateway } from "./Gateway.ts"
export { DeadlinePassed, GatewayConfigError, InvalidField, Overloaded } from "./GatewayErrors.ts"
export { GatewaySettings, type Settings, settingsConfig } from "./Settings.ts"
