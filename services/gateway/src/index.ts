export { Admission } from "./Admission.ts"
export { GatewayConfigError, type RunningGateway, serveGateway } from "./Gateway.ts"
export { GatewaySettings, type Settings, settingsConfig } from "./Settings.ts"
