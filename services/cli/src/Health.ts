import { checkHealth, type GrpcStatusError } from "@stagebeam/grpc"
import { reasonerServiceName } from "@stagebeam/proto"
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { callMetadata, clientOptions, connectionFlags, described } from "./Connection.ts"
import { CliFailure, EXIT, fromStatus } from "./ExitCodes.ts"
import { checkTlsFiles } from "./Reason.ts"

const flags = {
  ...connectionFlags,
  service: Flag.String("service").pipe(
    described('The service to check ("" for the whole server)', reasonerServiceName),
    Flag.withDefault(reasonerServiceName),
  ),
  deadline: Flag.Int("deadline").pipe(described("Seconds to wait for the answer", "5"), Flag.withDefault(5)),
}

/** grpc.health.v1 Check: prints the status; exits 0 when SERVING, 4 (unavailable) otherwise. */
export const health = Command.make("health", flags, (input) =>
  Effect.gen(function* () {
    yield* checkTlsFiles(input)
    const status = yield* checkHealth(
      { ...clientOptions(input), defaultDeadline: `${input.deadline} seconds` },
      input.service,
      callMetadata(input),
    )
    yield* Console.log(`${input.service === "" ? "server" : input.service}: ${status}`)
    if (status !== "SERVING") {
      return yield* Effect.fail(
        new CliFailure({
          message: `${input.address} is not serving (no GPU server up, or draining)`,
          exitCode: EXIT.unavailable,
        }),
      )
    }
  }).pipe(
    Effect.catchTag("GrpcStatusError", (error: GrpcStatusError) => Effect.fail(fromStatus(error))),
    Effect.catchTag("ProtoPackageError", (error) => Effect.die(error)),
  ),
).pipe(Command.withDescription("Whether a gateway serves: the standard gRPC health check (exit 0 when SERVING)"))
