import type { Fleet } from "@stagebeam/fleet"
import { type CallContext, type ServiceImplementation, serverStream, unary } from "@stagebeam/grpc"
import { Judges } from "@stagebeam/judge"
import type { DescribeResponse, ListJudgesResponse, ReasonEvent, ReasonResponse } from "@stagebeam/proto"
import { Context, Effect, Layer, Stream } from "effect"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { decodeReasonRequest } from "./DecodeRequest.ts"
import { describeGateway } from "./Description.ts"
import { toStatus } from "./ErrorStatus.ts"
import { listJudges } from "./JudgeListing.ts"
import { type CallInfo, Reasoning } from "./Reasoning.ts"
import { toProtoAnswer, toProtoDone, toProtoEvent } from "./ToProto.ts"

const callInfo = (method: string, ctx: CallContext): CallInfo => ({
  method,
  transport: "grpc",
  peer: ctx.peer,
  deadline: ctx.deadline,
  requestId: ctx.metadata["x-request-id"],
  setHeader: ctx.setHeader,
  caller: ctx.caller,
})

/** The stagebeam.v1.Reasoner methods: the gRPC door to the Reasoning path, and the judges' listing. */
export class Reasoner extends Context.Service<Reasoner, { readonly implementation: ServiceImplementation }>()(
  "@stagebeam/gateway/Reasoner",
) {
  static readonly layer = Layer.effect(
    Reasoner,
    Effect.gen(function* () {
      const settings = yield* GatewaySettings
      const reasoning = yield* Reasoning
      const judges = yield* Judges
      const context = yield* Effect.context<Fleet>()
      const decode = (message: unknown) => decodeReasonRequest(message, { maxImageBytes: settings.images.maxBytes })

      const reason = (message: unknown, ctx: CallContext) =>
        reasoning
          .run(callInfo("Reason", ctx), decode(message))
          .pipe(Effect.map(toProtoAnswer), Effect.mapError(toStatus))

      // The final answer goes out as the stream's last event, `done`, without its trace (the events were the trace).
      const reasonStream = (
        message: unknown,
        ctx: CallContext,
      ): Stream.Stream<ReasonEvent, ReturnType<typeof toStatus>> =>
        reasoning.stream(callInfo("ReasonStream", ctx), decode(message)).pipe(
          Stream.map((update): ReasonEvent => {
            return update._tag === "Event" ? toProtoEvent(update.event, update.judgedBy) : toProtoDone(update.answered)
          }),
          Stream.mapError(toStatus),
        )

      return Reasoner.of({
        implementation: {
          Reason: unary<unknown, ReasonResponse>(reason),
          ReasonStream: serverStream<unknown, ReasonEvent>(reasonStream),
          ListJudges: unary<unknown, ListJudgesResponse>(() => listJudges(judges)),
          Describe: unary<unknown, DescribeResponse>(() => Effect.provide(describeGateway, context)),
        },
      })
    }),
  )
}
