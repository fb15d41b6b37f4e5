import { accessSync } from "node:fs"
import type { GrpcStatusError } from "@stagebeam/grpc"
import {
  makeReasonerClient,
  type ReasonEvent__Output,
  type ReasonRequest,
  type ReasonResponse__Output,
} from "@stagebeam/proto"
import { Console, Effect, Option, Stream } from "effect"
import { Command, Flag } from "effect/cli"
import { type Connection, callMetadata, clientOptions, connectionFlags, described } from "./Connection.ts"
import { fromStatus, invalidInput } from "./ExitCodes.ts"
import { formatAnswer, formatEvents, makeEventPrinter, selectionLine, summaryLine } from "./Format.ts"
import { checkStdinOnce, imageFrom, questionFrom } from "./Input.ts"
import { makeProgress } from "./Progress.ts"

const STRATEGIES = ["stage_beam", "best_of_n", "sentence_beam", "greedy", "swires"] as const
const TOURNAMENTS = ["knockout", "sequential"] as const
const PRESETS = ["default", "reference"] as const
const PROGRESS = ["auto", "always", "never"] as const

export const searchFlags = {
  strategy: Flag.Literals("strategy", STRATEGIES).pipe(
    described("How candidates are made: per stage, whole answers, per sentence, or one sample", "stage_beam"),
    Flag.withDefault("stage_beam"),
  ),
  preset: Flag.Literals("preset", PRESETS).pipe(
    described("Selection rules: stagebeam's, or the reference's (simple_inference.py) exactly", "default"),
    Flag.withDefault("default"),
  ),
  tournament: Flag.Literals("tournament", TOURNAMENTS).pipe(
    described("Overrides the preset's tournament", "the preset's: knockout, or sequential for reference"),
    Flag.optional,
  ),
  candidates: Flag.Int("candidates").pipe(
    Flag.withAlias("n"),
    described("Candidates per step (0: the gateway's default)", "0, which the gateway takes as 4"),
    Flag.withDefault(0),
  ),
  judge: Flag.String("judge").pipe(
    described("A judge the gateway declares, by name (`stagebeam judges` lists them)", "the gateway's default"),
    Flag.optional,
  ),
  bothOrders: Flag.Boolean("both-orders").pipe(
    described("Judge every match in both orders and mark the verdicts that flip (a position-bias check)", "off"),
    Flag.withDefault(false),
  ),
  deadline: Flag.Int("deadline").pipe(
    described("Seconds the gateway has for the answer (the search is cut short to fit)", "600"),
    Flag.withDefault(600),
  ),
}

const flags = {
  ...connectionFlags,
  question: Flag.String("question").pipe(
    Flag.withAlias("q"),
    described('The question to answer ("-": read it from standard input)', "required"),
  ),
  image: Flag.String("image").pipe(
    Flag.withAlias("i"),
    described('An image file, an http(s) or data: URL (the gateway fetches it), or "-" for standard input', "none"),
    Flag.optional,
  ),
  ...searchFlags,
  seed: Flag.Int("seed").pipe(
    described("Seed of the search (0: random; the one used is reported)", "0"),
    Flag.withDefault(0),
  ),
  stages: Flag.Boolean("stages").pipe(
    described("Print the four stages after the conclusion, on stdout", "off"),
    Flag.withDefault(false),
  ),
  trace: Flag.Boolean("trace").pipe(
    described("Print the search's trace when it ends (stderr; in the JSON with --json)", "off"),
    Flag.withDefault(false),
  ),
  stream: Flag.Boolean("stream").pipe(
    described("Print the search's events as they happen (stderr; JSON lines on stdout with --json)", "off"),
    Flag.withDefault(false),
  ),
  json: Flag.Boolean("json").pipe(
    described("Print the whole response as JSON on stdout", "off"),
    Flag.withDefault(false),
  ),
  progress: Flag.Literals("progress", PROGRESS).pipe(
    described("The status line of a running search on stderr (auto: when stderr is a terminal)", "auto"),
    Flag.withDefault("auto"),
  ),
  quiet: Flag.Boolean("quiet").pipe(
    described("Only the answer: no status line and no summary on stderr", "off"),
    Flag.withDefault(false),
  ),
}

const upper = <A extends string>(value: A) => value.toUpperCase() as Uppercase<A>

/** The TLS files must be readable before grpc-js reads them (it would throw). */
export const checkTlsFiles = (connection: Connection) =>
  Effect.forEach(
    [connection.tlsCa, connection.tlsCert, connection.tlsKey].flatMap((file) =>
      Option.isSome(file) ? [file.value] : [],
    ),
    (file) =>
      Effect.try({
        try: () => accessSync(file),
        catch: () => invalidInput(`cannot read the TLS file ${file}`),
      }),
    { discard: true },
  )

const write = (text: string) => {
  process.stderr.write(text)
}

export const reason = Command.make("reason", flags, (input) =>
  Effect.gen(function* () {
    yield* checkStdinOnce(input.question, Option.getOrUndefined(input.image))
    yield* checkTlsFiles(input)
    const question = yield* questionFrom(input.question)
    const image = Option.isSome(input.image) ? yield* imageFrom(input.image.value) : {}
    const client = yield* makeReasonerClient({ ...clientOptions(input), defaultDeadline: `${input.deadline} seconds` })
    const request: ReasonRequest = {
      question,
      ...image,
      search: {
        strategy: `STRATEGY_${upper(input.strategy)}`,
        preset: `PRESET_${upper(input.preset)}`,
        ...Option.match(input.tournament, {
          onNone: () => ({}),
          onSome: (tournament) => ({ tournament: `TOURNAMENT_${upper(tournament)}` as const }),
        }),
        candidatesPerStage: input.candidates,
        seed: String(input.seed),
      },
      includeStages: input.stages,
      includeTrace: false,
      judge: {
        bothOrders: input.bothOrders,
        ...Option.match(input.judge, { onNone: () => ({}), onSome: (name) => ({ name }) }),
      },
    }
    const showProgress =
      !input.quiet &&
      !input.stream &&
      (input.progress === "always" || (input.progress === "auto" && process.stderr.isTTY === true))
    const progress = makeProgress(write)
    const printEvent = makeEventPrinter(input.bothOrders)
    const events: Array<ReasonEvent__Output> = []
    let done: ReasonResponse__Output | undefined

    const onEvent = (event: ReasonEvent__Output) =>
      Effect.sync(() => {
        if (event.done) done = event.done
        else events.push(event)
        if (input.stream && input.json) process.stdout.write(`${JSON.stringify(event)}\n`)
        else if (input.stream) for (const line of printEvent(event)) write(`${line}\n`)
        if (showProgress) progress.update(event)
      })

    // Events only when something shows them: a token limited to `methods=Reason` can use the CLI, and the call
    // is the plain one. A stream refused for the method alone, wanted only for the status line, falls back to it.
    const unary = client.Reason({ ...request, includeTrace: input.trace }, { metadata: callMetadata(input) }).pipe(
      Effect.tap((response) =>
        Effect.sync(() => {
          done = response
          events.push(...response.trace)
        }),
      ),
    )
    const streamed = client.ReasonStream(request, { metadata: callMetadata(input) }).pipe(Stream.runForEach(onEvent))
    const run = input.stream
      ? streamed
      : showProgress
        ? streamed.pipe(
            Effect.catchIf(
              (error) => error.statusName === "PERMISSION_DENIED" && done === undefined && events.length === 0,
              () => unary,
            ),
          )
        : unary
    yield* (showProgress ? progress.ticking(run) : run).pipe(Effect.ensuring(Effect.sync(() => progress.clear())))
    if (done === undefined) return yield* Effect.fail(invalidInput("the gateway ended the call without an answer"))
    const response: ReasonResponse__Output = { ...done, trace: input.trace ? events : [] }
    if (input.json && !input.stream) yield* Console.log(JSON.stringify(response, null, 2))
    if (!input.json) yield* Console.log(formatAnswer(response))
    if (input.trace && !input.json) for (const line of formatEvents(events, input.bothOrders)) write(`${line}\n`)
    if (!input.quiet && !input.json) write(`${summaryLine(response)}\n${selectionLine(response.selection)}\n`)
  }).pipe(
    Effect.scoped,
    Effect.catchTag("GrpcStatusError", (error: GrpcStatusError) => Effect.fail(fromStatus(error))),
  ),
).pipe(
  Command.withDescription(
    "Ask a stagebeam gateway a question about an image: the answer on stdout, the search's progress on stderr",
  ),
)
