import { Console, Effect } from "effect"
import { Argument, Command } from "effect/cli"
import { invalidInput } from "./ExitCodes.ts"

/**
 * Checks a gateway's settings before they are deployed: the file (and the STAGEBEAM_* variables, as the gateway
 * would read them) decoded by the gateway's own schema, nothing started. Exit 0 with the resolved settings
 * (redacted) on stdout; exit 3 with every problem, each at its path, an unknown key with the nearest known one.
 */
export const checkConfigCommand = Command.make(
  "check-config",
  { file: Argument.String("file").pipe(Argument.withDescription("The gateway's settings file (YAML)")) },
  (input) =>
    // The gateway's settings schema, loaded only for this command: it is half the CLI's bundle.
    Effect.promise(() => import("@stagebeam/gateway/check-config")).pipe(
      Effect.flatMap(({ checkConfig }) => checkConfig(input.file)),
      Effect.flatMap(({ yaml, warnings }) =>
        Effect.andThen(
          Effect.forEach(warnings, (warning) => Console.error(`warning: ${warning}`)),
          Console.log(yaml.trimEnd()),
        ),
      ),
      Effect.catchTag("GatewayConfigError", (error) => Effect.fail(invalidInput(error.message))),
    ),
).pipe(
  Command.withDescription(
    "Check a gateway settings file (and the STAGEBEAM_* variables) without starting it; print them resolved, redacted",
  ),
)
