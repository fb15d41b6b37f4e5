import type { GrpcStatusError } from "@stagebeam/grpc"
import { type ListJudgesResponse__Output, makeReasonerClient } from "@stagebeam/proto"
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { callMetadata, clientOptions, connectionFlags, described } from "./Connection.ts"
import { fromStatus } from "./ExitCodes.ts"
import { checkTlsFiles } from "./Reason.ts"

const flags = {
  ...connectionFlags,
  json: Flag.Boolean("json").pipe(described("Print the ListJudges answer as JSON", "a table"), Flag.withDefault(false)),
  deadline: Flag.Int("deadline").pipe(described("Seconds to wait for the answer", "10"), Flag.withDefault(10)),
}

const HEADER = ["name", "kind", "judging", "verdicts", "pool", "model", "can"] as const

/** What a judge's pool can do, in a few words: how it constrains a verdict, logprobs, images, scoring routes. */
const abilities = (judge: ListJudgesResponse__Output["judges"][number]): string => {
  const can = judge.capabilities
  if (can === null) return ""
  return [
    can.constrainedChoice !== "" && can.constrainedChoice !== "none" ? `choice:${can.constrainedChoice}` : "",
    can.logprobs ? "logprobs" : "",
    can.images ? "images" : "",
    can.pooling ? "pooling" : "",
    can.score ? "score" : "",
  ]
    .filter((word) => word !== "")
    .join(",")
}

/** One row per judge, the default marked with `*`, columns padded to their widest cell. */
export const formatJudges = (listed: ListJudgesResponse__Output): ReadonlyArray<string> => {
  const rows = listed.judges.map((judge) => [
    `${judge.name}${judge.isDefault ? " *" : ""}`,
    judge.kind,
    judge.judging.toLowerCase(),
    judge.verdicts === "" ? "-" : judge.verdicts,
    judge.pool,
    judge.model,
    abilities(judge),
  ])
  const widths = HEADER.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join("  ")
      .trimEnd()
  return [line(HEADER), ...rows.map(line), `* the default (${listed.defaultJudge}); pick another with --judge NAME`]
}

/** stagebeam.v1.Reasoner ListJudges: the judges a gateway declares, so `--judge NAME` can pick one. */
export const judges = Command.make("judges", flags, (input) =>
  Effect.gen(function* () {
    yield* checkTlsFiles(input)
    const client = yield* makeReasonerClient({ ...clientOptions(input), defaultDeadline: `${input.deadline} seconds` })
    const listed = yield* client.ListJudges({}, { metadata: callMetadata(input) })
    if (input.json) return yield* Console.log(JSON.stringify(listed, null, 2))
    for (const row of formatJudges(listed)) yield* Console.log(row)
  }).pipe(
    Effect.scoped,
    Effect.catchTag("GrpcStatusError", (error: GrpcStatusError) => Effect.fail(fromStatus(error))),
    Effect.catchTag("ProtoPackageError", (error) => Effect.die(error)),
  ),
).pipe(Command.withDescription("The judges a gateway declares (name, kind, pool, model, what its pool can do)"))
