import { Effect } from "effect"
import { decodeSettings } from "./Decode.ts"
import { readEnvironment, unknownVariables } from "./Environment.ts"
import { settingsYaml } from "./Redact.ts"

/**
 * `check-config [FILE]`: the settings as the gateway would start with them (FILE, else STAGEBEAM_CONFIG's file,
 * and the STAGEBEAM_* variables on top), checked without starting anything. Succeeds with the resolved settings as
 * YAML, redacted, and warnings for variables no setting reads; fails with every problem, each at its path.
 */
export const checkConfig = (file?: string) =>
  Effect.gen(function* () {
    const { input, origins } = yield* readEnvironment(file)
    const settings = yield* decodeSettings(input, origins)
    return { yaml: settingsYaml(settings), warnings: yield* unknownVariables }
  })
