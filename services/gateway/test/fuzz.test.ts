import { assert, describe, it } from "@effect/vitest"
import * as grpc from "@grpc/grpc-js"
import { Cause, Effect, Exit } from "effect"
import fc from "fast-check"
import { decodeReasonRequest } from "../src/DecodeRequest.ts"
import { startGateway } from "./harness.ts"

/** Values of any type where the proto has fields: what a buggy or hostile client could hand grpc-js. */
const anything = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 16 }),
  fc.array(fc.integer(), { maxLength: 3 }),
)
const message = fc.record(
  {
    question: fc.oneof(fc.string({ maxLength: 40 }), anything),
    image: fc.oneof(
      fc.constant(null),
      fc.record(
        { source: fc.constantFrom("data", "url", undefined), data: anything, url: anything, mimeType: anything },
        {
          requiredKeys: [],
        },
      ),
    ),
    search: fc.oneof(
      fc.constant(null),
      fc.record(
        {
          strategy: fc.oneof(
            fc.constantFrom("STRATEGY_GREEDY", "STRATEGY_STAGE_BEAM", "STRATEGY_UNSPECIFIED"),
            anything,
          ),
          candidatesPerStage: anything,
          tournament: anything,
          seed: fc.oneof(fc.constantFrom("0", "7", "99999999999999"), anything),
          sampling: fc.oneof(
            fc.constant(null),
            fc.record({ temperature: anything, topP: anything, maxTokens: anything }),
          ),
          reasoningCheck: anything,
          maxSentences: anything,
          tokenBudget: anything,
        },
        { requiredKeys: [] },
      ),
    ),
    includeStages: anything,
    includeTrace: anything,
    judge: fc.oneof(fc.constant(null), fc.record({ kind: anything, name: anything, bothOrders: anything })),
  },
  { requiredKeys: [] },
)

describe("the request decoder (fuzzed)", () => {
  it.effect("decodes or refuses naming a field: never a defect", () =>
    Effect.gen(function* () {
      const samples = fc.sample(message, 500)
      for (const sample of samples) {
        const exit = yield* Effect.exit(decodeReasonRequest(sample, { maxImageBytes: 1024 }))
        if (Exit.isFailure(exit)) {
          assert.isFalse(Cause.hasDies(exit.cause), JSON.stringify(sample))
          const error = Cause.findErrorOption(exit.cause)
          assert.strictEqual(error._tag === "Some" ? error.value._tag : "none", "InvalidField")
        }
      }
    }),
  )

  it.live("over gRPC, arbitrary bytes get INVALID_ARGUMENT or an answer, never INTERNAL, and the server stays up", () =>
    Effect.gen(function* () {
      const { gateway, client } = yield* startGateway()
      const raw = new grpc.Client(gateway.address, grpc.credentials.createInsecure())
      const call = (bytes: Uint8Array) =>
        Effect.callback<number>((resume) => {
          raw.makeUnaryRequest(
            "/stagebeam.v1.Reasoner/Reason",
            (value: Uint8Array) => Buffer.from(value),
            (buffer: Buffer) => buffer,
            bytes,
            new grpc.Metadata(),
            { deadline: new Date(Date.now() + 20_000) },
            (error) => resume(Effect.succeed(error === null ? 0 : (error.code ?? -1))),
          )
        })
      for (const bytes of fc.sample(fc.uint8Array({ maxLength: 64 }), 40)) {
        const code = yield* call(bytes)
        assert.notInclude([grpc.status.INTERNAL, grpc.status.UNKNOWN], code, Buffer.from(bytes).toString("hex"))
      }
      raw.close()
      const alive = yield* client.Reason({ question: "2+2?", search: { strategy: "STRATEGY_GREEDY" } })
      assert.isAbove(alive.conclusion.length, 0)
    }),
  )
})
