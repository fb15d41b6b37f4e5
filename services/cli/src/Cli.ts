import { readFile } from "node:fs/promises"
import type { GrpcStatusError } from "@stagebeam/grpc"
import { makeReasonerClient, type ReasonRequest } from "@stagebeam/proto"
import { Console, Effect, Option, Stream } from "effect"
import { Command, Flag } from "effect/cli"
import { formatEvent, formatResponse } from "./Format.ts"

const STRATEGIES = ["stage_beam", "best_of_n", "sentence_beam", "greedy"] as const
const TOURNAMENTS = ["knockout", "sequential"] as const
const PRESETS = ["default", "reference"] as const

const flags = {
  address: Flag.String("address").pipe(
    Flag.withAlias("a"),
    Flag.withDescription("host:port of a stagebeam gateway"),
    Flag.withDefault("127.0.0.1:50051"),
  ),
  question: Flag.String("question").pipe(Flag.withAlias("q"), Flag.withDescription("The question to answer")),
  image: Flag.String("image").pipe(
    Flag.withAlias("i"),
    Flag.withDescription("An image file, or an http(s)/data: URL (the gateway fetches it)"),
    Flag.optional,
  ),
  strategy: Flag.Literals("strategy", STRATEGIES).pipe(Flag.withDefault("stage_beam")),
  preset: Flag.Literals("preset", PRESETS).pipe(
    Flag.withDescription("Selection rules: stagebeam's defaults, or the reference's (simple_inference.py) exactly"),
    Flag.withDefault("default"),
  ),
  tournament: Flag.Literals("tournament", TOURNAMENTS).pipe(
    Flag.withDescription("Overrides the preset's (default: knockout; reference: sequential)"),
    Flag.optional,
  ),
  candidates: Flag.Int("candidates").pipe(Flag.withAlias("n"), Flag.withDefault(0)),
  seed: Flag.Int("seed").pipe(Flag.withDefault(0)),
  stages: Flag.Boolean("stages").pipe(
    Flag.withDescription("Print the four stages, not only the conclusion"),
    Flag.withDefault(false),
  ),
  trace: Flag.Boolean("trace").pipe(Flag.withDescription("Print the search trace"), Flag.withDefault(false)),
  stream: Flag.Boolean("stream").pipe(
    Flag.withDescription("Print the search's events as they happen"),
    Flag.withDefault(false),
  ),
  bothOrders: Flag.Boolean("both-orders").pipe(
    Flag.withDescription("Judge every match in both orders (a position-bias check)"),
    Flag.withDefault(false),
  ),
  json: Flag.Boolean("json").pipe(Flag.withDescription("Print the raw response as JSON"), Flag.withDefault(false)),
  deadline: Flag.Int("deadline").pipe(Flag.withDescription("Deadline in seconds"), Flag.withDefault(600)),
  token: Flag.String("token").pipe(
    Flag.withDescription("Bearer token, for a gateway with auth.tokensFile (or the STAGEBEAM_TOKEN variable)"),
    Flag.optional,
  ),
  tlsCa: Flag.String("tls-ca").pipe(
    Flag.withDescription("PEM file of the CA of the gateway's certificate: TLS"),
    Flag.optional,
  ),
  tlsCert: Flag.String("tls-cert").pipe(
    Flag.withDescription("PEM file of this client's certificate (mTLS)"),
    Flag.optional,
  ),
  tlsKey: Flag.String("tls-key").pipe(Flag.withDescription("PEM file of this client's key (mTLS)"), Flag.optional),
}

const imageField = (image: Option.Option<string>) =>
  Option.match(image, {
    onNone: () => Effect.succeed({}),
    onSome: (value) =>
      /^(https?:|data:)/.test(value)
        ? Effect.succeed({ image: { url: value } })
        : Effect.map(
            Effect.promise(() => readFile(value)),
            (data) => ({ image: { data } }),
          ),
  })

export const reason = Command.make("reason", flags, (input) =>
  Effect.gen(function* () {
    const client = yield* makeReasonerClient({
      address: input.address,
      defaultDeadline: `${input.deadline} seconds`,
      ...(Option.isSome(input.tlsCa)
        ? {
            tls: {
              caFile: input.tlsCa.value,
              certFile: Option.getOrUndefined(input.tlsCert),
              keyFile: Option.getOrUndefined(input.tlsKey),
            },
          }
        : {}),
    })
    const token = Option.orElse(input.token, () => Option.fromUndefinedOr(process.env.STAGEBEAM_TOKEN))
    const callOptions = Option.match(token, {
      onNone: () => ({}),
      onSome: (value) => ({ metadata: { authorization: `Bearer ${value}` } }),
    })
    const request: ReasonRequest = {
      question: input.question,
      ...(yield* imageField(input.image)),
      search: {
        strategy: `STRATEGY_${input.strategy.toUpperCase() as Uppercase<(typeof STRATEGIES)[number]>}`,
        preset: `PRESET_${input.preset.toUpperCase() as Uppercase<(typeof PRESETS)[number]>}`,
        ...Option.match(input.tournament, {
          onNone: () => ({}),
          onSome: (tournament) => ({
            tournament: `TOURNAMENT_${tournament.toUpperCase() as Uppercase<(typeof TOURNAMENTS)[number]>}` as const,
          }),
        }),
        candidatesPerStage: input.candidates,
        seed: String(input.seed),
      },
      includeStages: input.stages,
      includeTrace: input.trace,
      judge: { bothOrders: input.bothOrders },
    }
    if (input.stream) {
      yield* client
        .ReasonStream(request, callOptions)
        .pipe(Stream.runForEach((event) => Console.log(input.json ? JSON.stringify(event) : formatEvent(event))))
      return
    }
    const response = yield* client.Reason(request, callOptions)
    yield* Console.log(input.json ? JSON.stringify(response, null, 2) : formatResponse(response))
  }).pipe(
    Effect.scoped,
    Effect.catchTag("GrpcStatusError", (error: GrpcStatusError) =>
      Effect.andThen(
        Console.error(`error: ${error.message} (gRPC status ${error.code})`),
        Effect.sync(() => {
          process.exitCode = 1
        }),
      ),
    ),
  ),
).pipe(Command.withDescription("Ask a stagebeam gateway a question about an image"))

export const cli = Command.make("stagebeam").pipe(
  Command.withDescription("Command line for stagebeam, LLaVA-CoT search served over a GPU fleet"),
  Command.withSubcommands([reason]),
)
