import type { GrpcStatusError } from "@stagebeam/grpc"
import type { ReasonerClient } from "@stagebeam/proto"
import { Effect } from "effect"
import packageJson from "../../package.json" with { type: "json" }

export const simulatedBanner =
  "SIMULATED: these answers come from stagebeam's vLLM simulator (services/vllm-sim), not from the model; the scores say nothing about LLaVA-CoT."

/**
 * What answered the run, asked of the gateway: its version and commit, each pool's model and the versions its
 * servers reported, whether the servers are simulated (Describe), and the judges it declares (ListJudges).
 * `identity` is what a resumed run must match.
 */
export const describeFleet = (
  client: ReasonerClient,
  metadata: Readonly<Record<string, string>>,
  address: string,
): Effect.Effect<
  { readonly simulated: boolean | "unknown"; readonly identity: unknown; readonly provenance: Record<string, unknown> },
  GrpcStatusError
> =>
  Effect.gen(function* () {
    const judges = yield* client.ListJudges({}, { metadata })
    const described = yield* client.Describe({}, { metadata }).pipe(
      Effect.map((d) => ({ ok: true as const, d })),
      // An older gateway without Describe: the run says it cannot tell.
      Effect.catchIf(
        (error) => error.statusName === "UNIMPLEMENTED",
        () => Effect.succeed({ ok: false as const }),
      ),
    )
    const simulated: boolean | "unknown" = described.ok ? described.d.simulated : "unknown"
    const pools = described.ok
      ? described.d.pools.map((pool) => ({
          name: pool.name,
          model: pool.model,
          simulated: pool.simulated,
          servers: pool.servers.map((server) => ({ kind: server.kind, version: server.version })),
        }))
      : "unknown (the gateway has no Describe)"
    const gateway = described.ok
      ? { address, version: described.d.version, commit: described.d.commit }
      : { address, version: "unknown", commit: "unknown" }
    const judgeList = judges.judges.map((j) => ({
      name: j.name,
      kind: j.kind,
      pool: j.pool,
      model: j.model,
      judging: j.judging,
    }))
    return {
      simulated,
      identity: {
        gateway: { version: gateway.version, commit: gateway.commit },
        simulated,
        pools,
        judges: judgeList,
        defaultJudge: judges.defaultJudge,
      },
      provenance: {
        cli: { version: packageJson.version },
        gateway,
        simulated,
        pools,
        judges: judgeList,
        defaultJudge: judges.defaultJudge,
      },
    }
  })
