import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { CliError, CliOutput, Command } from "effect/cli"
import { cli } from "./Cli.ts"
import { CliFailure, EXIT } from "./ExitCodes.ts"

/**
 * A wrong command line gets its problems and where to find the flags, on stderr, not the whole help; --help and
 * --version print as usual.
 */
const presenter = CliOutput.layerPresenter({
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Effect.flatMap(CliOutput.Formatter, (formatter) =>
          Console.error(
            `${formatter.formatErrors(event.errors)}\n\nSee: ${[...event.commandPath, "--help"].join(" ")}`,
          ),
        )
      : CliOutput.defaultPresenter.present(event),
})

const usage = new CliFailure({ message: "usage", exitCode: EXIT.usage })

cli.pipe(
  Command.run({ version: "0.1.0" }),
  // A failure the command explains: its message, no stack trace, and the exit status of its cause.
  Effect.tapErrorTag("CliFailure", (failure) => Console.error(`stagebeam: ${failure.message}`)),
  Effect.catchIf(
    (error) => CliError.isCliError(error) && error._tag === "ShowHelp" && error.errors.length > 0,
    () => Effect.fail(usage),
  ),
  Effect.provide(Layer.mergeAll(NodeServices.layer, presenter)),
  NodeRuntime.runMain,
)
