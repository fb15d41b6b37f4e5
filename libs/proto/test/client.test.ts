import { assert, describe, it } from "@effect/vitest"
import { GrpcServer, GrpcStatus, serverStream, unary } from "@stagebeam/grpc"
import { Effect, Stream } from "effect"
import {
  type ListJudgesResponse,
  loadReasonerPackageDefinition,
  makeReasonerClient,
  reasonerServiceName,
} from "../src/index.ts"

const judges: ListJudgesResponse = {
  judges: [
    {
      name: "self",
      kind: "pairwise",
      pool: "generator",
      model: "Xkev/Llama-3.2V-11B-cot",
      judging: "PAIRWISE",
      verdicts: "choice",
      isDefault: true,
      capabilities: {
        constrainedChoice: "structured_outputs",
        logprobs: true,
        images: true,
        pooling: false,
        score: false,
      },
    },
    { name: "reward", kind: "reward", pool: "reward", model: "rm", judging: "POINTWISE", isDefault: false },
  ],
  defaultJudge: "self",
}

describe("the typed Reasoner client", () => {
  it.live("calls ListJudges and reads the judges as the proto types them", () =>
    Effect.gen(function* () {
      const server = yield* GrpcServer.make({
        host: "127.0.0.1",
        port: 0,
        packageDefinition: loadReasonerPackageDefinition(),
        services: [
          {
            name: reasonerServiceName,
            implementation: {
              ListJudges: unary(() => Effect.succeed(judges)),
              // Not called here.
              Reason: unary(() => Effect.fail(GrpcStatus.unimplemented("not here"))),
              ReasonStream: serverStream(() => Stream.empty),
              Describe: unary(() => Effect.fail(GrpcStatus.unimplemented("not here"))),
            },
          },
        ],
      })
      const client = yield* makeReasonerClient({ address: server.address, defaultDeadline: "5 seconds" })
      const listed = yield* client.ListJudges({})
      assert.strictEqual(listed.defaultJudge, "self")
      assert.deepStrictEqual(
        listed.judges.map((judge) => [judge.name, judge.kind, judge.judging, judge.isDefault]),
        [
          ["self", "pairwise", "PAIRWISE", true],
          ["reward", "reward", "POINTWISE", false],
        ],
      )
      assert.strictEqual(listed.judges[0]?.capabilities?.constrainedChoice, "structured_outputs")
      // Unset fields arrive with their defaults (proto-loader's defaults: true).
      assert.strictEqual(listed.judges[1]?.verdicts, "")
      assert.isNull(listed.judges[1]?.capabilities ?? null)
    }).pipe(Effect.scoped),
  )
})
