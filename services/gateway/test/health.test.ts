import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { eventually, healthOf, seriesValue, startGateway, startSimulators, urlsOf } from "./harness.ts"

/** GET a path of the HTTP door: its status and JSON body. */
const getJson = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url)
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  })

const keyFile = (key: string) => {
  const path = join(mkdtempSync(join(tmpdir(), "stagebeam-health-")), "judge-key")
  writeFileSync(path, key)
  return path
}

describe("health per pool (gRPC and HTTP)", () => {
  it.live(
    "the default judge's pool refusing its key makes the service NOT_SERVING, with the reason; a fixed key brings it back",
    () =>
      Effect.gen(function* () {
        const judges = yield* startSimulators(1, { apiKey: "the-right-key" })
        const path = keyFile("a-wrong-key")
        const { gateway } = yield* startGateway({
          pools: { judge: { endpoints: urlsOf(judges), apiKey: { file: path } } },
          defaultJudge: "model",
        })
        const ready = `${gateway.httpUrl}/ready`

        const refused = yield* eventually(
          Effect.map(healthOf(gateway.address, "stagebeam.v1.Reasoner"), (status) => status === "NOT_SERVING"),
          500,
        )
        assert.isTrue(refused, "gRPC health turns NOT_SERVING")
        assert.strictEqual(yield* healthOf(gateway.address, ""), "NOT_SERVING")
        const down = yield* getJson(ready)
        assert.strictEqual(down.status, 503)
        const pools = down.body.pools as Record<string, { usable: boolean; reason?: string; required: boolean }>
        assert.isFalse(pools.judge?.usable)
        assert.isTrue(pools.judge?.required)
        assert.include(pools.judge?.reason, "refuse its API key")
        assert.isTrue(pools.generator?.usable)
        assert.strictEqual((yield* getJson(`${gateway.httpUrl}/health`)).status, 503)
        const metrics = yield* Effect.promise(() => fetch(gateway.metricsUrl).then((r) => r.text()))
        assert.strictEqual(seriesValue(metrics, "stagebeam_pool_servers", 'pool="judge",state="keyRefused"'), "1")
        assert.strictEqual(seriesValue(metrics, "stagebeam_health_serving", ""), "0")

        writeFileSync(path, "the-right-key")
        const back = yield* eventually(
          Effect.map(healthOf(gateway.address, "stagebeam.v1.Reasoner"), (status) => status === "SERVING"),
          500,
        )
        assert.isTrue(back, "gRPC health is SERVING again")
        const up = yield* getJson(ready)
        assert.strictEqual(up.status, 200)
        assert.strictEqual(up.body.status, "SERVING")
        assert.deepStrictEqual(up.body.degraded, [])
      }),
    120_000,
  )

  it.live("a pool only a named judge uses is a degraded state: still SERVING, the pool listed with its reason", () =>
    Effect.gen(function* () {
      const judges = yield* startSimulators(1, { apiKey: "the-right-key" })
      const { gateway } = yield* startGateway({
        pools: { judge: { endpoints: urlsOf(judges), apiKey: { file: keyFile("a-wrong-key") } } },
      })
      const degraded = yield* eventually(
        Effect.map(getJson(`${gateway.httpUrl}/ready`), ({ body }) =>
          (body.degraded as Array<string>).includes("judge"),
        ),
        500,
      )
      assert.isTrue(degraded)
      const report = yield* getJson(`${gateway.httpUrl}/ready`)
      assert.strictEqual(report.status, 200)
      assert.strictEqual(yield* healthOf(gateway.address, "stagebeam.v1.Reasoner"), "SERVING")
    }),
  )
})
