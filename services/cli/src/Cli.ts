import { Command } from "effect/cli"
import { checkConfigCommand } from "./CheckConfig.ts"
import { evaluate } from "./eval/EvalCommand.ts"
import { health } from "./Health.ts"
import { judges } from "./Judges.ts"
import { reason } from "./Reason.ts"

export const cli = Command.make("stagebeam").pipe(
  Command.withDescription(
    "Command line for stagebeam, LLaVA-CoT search served over a GPU fleet. Exit status: 0 ok, 2 usage, 3 invalid " +
      "input, 4 unavailable, 5 deadline, 6 not authorized, 1 anything else",
  ),
  Command.withSubcommands([reason, health, judges, evaluate, checkConfigCommand]),
)
