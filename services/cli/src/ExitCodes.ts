import type { GrpcStatusError } from "@stagebeam/grpc"
import { Runtime, Schema } from "effect"

/** The exit status by cause, so scripts can tell a mistake from an outage (the README lists them). */
export const EXIT = {
  ok: 0,
  /** Anything else: an internal error of the gateway or of this command. */
  failed: 1,
  /** The command line itself is wrong: an unknown flag, a missing or malformed value. */
  usage: 2,
  /** The input cannot be answered as given: the gateway refused it (INVALID_ARGUMENT, FAILED_PRECONDITION) or a file cannot be read. */
  invalidInput: 3,
  /** The gateway or its GPU servers cannot answer now (UNAVAILABLE, RESOURCE_EXHAUSTED, not reachable): retry later. */
  unavailable: 4,
  /** The deadline passed (DEADLINE_EXCEEDED). */
  deadline: 5,
  /** The gateway refused the credentials (UNAUTHENTICATED, PERMISSION_DENIED). */
  unauthorized: 6,
} as const

/**
 * A failure the command reports itself: its message on stderr (no stack trace) and its exit status. The runtime
 * reads both from the error (Runtime.errorExitCode, errorReported).
 */
export class CliFailure extends Schema.TaggedError<CliFailure>()("CliFailure", {
  message: Schema.String,
  exitCode: Schema.Int,
}) {
  override get [Runtime.errorExitCode]() {
    return this.exitCode
  }
  override readonly [Runtime.errorReported] = false
}

export const invalidInput = (message: string) => new CliFailure({ message, exitCode: EXIT.invalidInput })

const BY_STATUS: Readonly<Record<string, number>> = {
  INVALID_ARGUMENT: EXIT.invalidInput,
  FAILED_PRECONDITION: EXIT.invalidInput,
  OUT_OF_RANGE: EXIT.invalidInput,
  NOT_FOUND: EXIT.invalidInput,
  UNAVAILABLE: EXIT.unavailable,
  RESOURCE_EXHAUSTED: EXIT.unavailable,
  DEADLINE_EXCEEDED: EXIT.deadline,
  UNAUTHENTICATED: EXIT.unauthorized,
  PERMISSION_DENIED: EXIT.unauthorized,
}

/** A gRPC failure as the command reports it: the gateway's message and status, the exit status by its cause. */
export const fromStatus = (error: GrpcStatusError): CliFailure =>
  new CliFailure({
    message: `${error.message} (${error.statusName})`,
    exitCode: BY_STATUS[error.statusName] ?? EXIT.failed,
  })
