import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Layer, Redacted } from "effect"
import { mergeInput } from "../src/config/Merge.ts"
import { judgeDeclarationsOf, poolOptionsOf } from "../src/config/Resolve.ts"
import type { SettingsInput } from "../src/config/Settings.ts"
import { GatewaySettings } from "../src/dev/TestSettings.ts"

/** Production settings (no simulated fleet) with a generator pool under the input. */
const layerWithGenerator = (input: SettingsInput) =>
  GatewaySettings.layer(
    mergeInput<SettingsInput>({ pools: { generator: { endpoints: ["http://gpu-0:8000"] } } }, input),
  )

const settingsFrom = <E>(layer: Layer.Layer<GatewaySettings, E>) =>
  Effect.gen(function* () {
    return yield* GatewaySettings
  }).pipe(Effect.provide(layer))

/** Settings read as main reads them, from the given environment variables instead of the process's. */
const fromEnvironment = (env: Record<string, string>) =>
  settingsFrom(
    GatewaySettings.layerFromEnvironment.pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord(env)))),
  )

const writeFile = (name: string, text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), "stagebeam-config-")), name)
  writeFileSync(path, text)
  return path
}

describe("settings from a file and the environment", () => {
  it.effect("the file declares pools and judges; variables override its common keys", () =>
    Effect.gen(function* () {
      const file = writeFile(
        "stagebeam.yaml",
        [
          "pools:",
          "  generator:",
          "    endpoints: [http://gpu-1:8000/v1, http://gpu-2:8000/]",
          "  judge:",
          "    endpoints: [http://judge-1:8000]",
          "    model: big-judge",
          "    timeout: 30s",
          "    apiKey: { env: JUDGE_KEY }",
          "judges:",
          "  paper: { kind: pairwise, pool: generator }",
          "  big: { kind: pairwise, pool: judge }",
          "defaultJudge: big",
          "upstream:",
          "  attempts: 5",
          "admission: { maxQueued: 7 }",
        ].join("\n"),
      )
      const settings = yield* fromEnvironment({
        STAGEBEAM_CONFIG: file,
        STAGEBEAM_UPSTREAM_ATTEMPTS: "2",
        STAGEBEAM_GRPC_PORT: "6000",
        JUDGE_KEY: "sk-judge",
      })
      assert.deepStrictEqual(settings.pools.generator?.endpoints, ["http://gpu-1:8000", "http://gpu-2:8000"])
      assert.strictEqual(settings.upstream.attempts, 2)
      assert.strictEqual(settings.grpc.port, 6000)
      assert.strictEqual(settings.admission.maxQueued, 7)
      assert.strictEqual(settings.defaultJudge, "big")
      const pools = yield* poolOptionsOf(settings).pipe(
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord({ JUDGE_KEY: "sk-judge" }))),
      )
      const judge = pools.find((pool) => pool.name === "judge")!
      assert.strictEqual(judge.model, "big-judge")
      assert.strictEqual(Duration.toMillis(judge.requestTimeout), 30_000)
      assert.strictEqual(judge.maxAttempts, 2)
      const judgeKey = judge.apiKey === undefined ? undefined : yield* judge.apiKey
      assert.strictEqual(judgeKey === undefined ? "" : Redacted.value(judgeKey), "sk-judge")
      const generator = pools.find((pool) => pool.name === "generator")!
      assert.strictEqual(generator.model, "Xkev/Llama-3.2V-11B-cot")
      assert.isUndefined(generator.apiKey)
    }),
  )

  it.effect("variables alone still work, durations in either form", () =>
    Effect.gen(function* () {
      const settings = yield* fromEnvironment({
        STAGEBEAM_ENDPOINTS: "http://a:8000, http://b:8000",
        STAGEBEAM_JUDGE_ENDPOINTS: "http://j:8000",
        STAGEBEAM_JUDGE: "model",
        STAGEBEAM_UPSTREAM_TIMEOUT: "30s",
        STAGEBEAM_COOLDOWN: "2 minutes",
      })
      assert.deepStrictEqual(settings.pools.judge?.endpoints, ["http://j:8000"])
      assert.strictEqual(settings.defaultJudge, "model")
      assert.strictEqual(Duration.toMillis(settings.upstream.timeout), 30_000)
      assert.strictEqual(Duration.toMillis(settings.upstream.cooldown), 120_000)
    }),
  )

  it.effect("a bad value stops the start naming its path, and the variable or the file it came from", () =>
    Effect.gen(function* () {
      const file = writeFile("bad.yaml", "pools:\n  judge:\n    endpoints: [http://ok:8000, not-a-url]\n")
      const fromFile = yield* Effect.flip(fromEnvironment({ STAGEBEAM_CONFIG: file }))
      assert.include(fromFile.message, `pools.judge.endpoints[1] (in ${file}): not a URL`)
      const fromVariable = yield* Effect.flip(fromEnvironment({ STAGEBEAM_UPSTREAM_TIMEOUT: "30 sec" }))
      assert.include(fromVariable.message, "upstream.timeout (from STAGEBEAM_UPSTREAM_TIMEOUT): expected a duration")
      assert.include(fromVariable.message, '"30s"')
      const judgeless = yield* Effect.flip(
        fromEnvironment({ STAGEBEAM_JUDGE: "model", STAGEBEAM_ENDPOINTS: "http://gpu-1:8000" }),
      )
      assert.include(
        judgeless.message,
        "defaultJudge (from STAGEBEAM_JUDGE): names no declared judge (declared: self, self-free-text)",
      )
      const missing = yield* Effect.flip(fromEnvironment({ STAGEBEAM_CONFIG: "/nonexistent/stagebeam.yaml" }))
      assert.include(missing.message, "cannot read STAGEBEAM_CONFIG=/nonexistent/stagebeam.yaml")
      const broken = yield* Effect.flip(fromEnvironment({ STAGEBEAM_CONFIG: writeFile("broken.yaml", "pools: [") }))
      assert.include(broken.message, "cannot read STAGEBEAM_CONFIG=")
    }),
  )

  it.effect("an API key is never written in the settings, and a URL may not carry credentials", () =>
    Effect.gen(function* () {
      const key = yield* Effect.flip(
        settingsFrom(layerWithGenerator({ pools: { generator: { apiKey: "sk-123" as never } } })),
      )
      assert.include(key.message, "pools.generator.apiKey: Expected { env: VARIABLE } or { file: /path/to/key }")
      assert.notInclude(key.message, "sk-123")
      const credentials = yield* Effect.flip(
        settingsFrom(layerWithGenerator({ pools: { generator: { endpoints: ["http://user:pw@gpu:8000"] } } })),
      )
      assert.include(credentials.message, "pools.generator.endpoints[0]: has credentials in it")
    }),
  )

  it.effect("a key file is read again when it changes; while a new version cannot be read the last key stays", () =>
    Effect.gen(function* () {
      const keyPath = writeFile("judge-key", "sk-first\n")
      const settings = yield* settingsFrom(
        layerWithGenerator({ pools: { judge: { endpoints: ["http://j:8000"], apiKey: { file: keyPath } } } }),
      )
      const pools = yield* poolOptionsOf(settings)
      const key = pools.find((pool) => pool.name === "judge")!.apiKey!
      const read = Effect.map(key, (value) => (value === undefined ? "" : Redacted.value(value)))
      assert.strictEqual(yield* read, "sk-first")
      writeFileSync(keyPath, "sk-second-and-longer\n")
      assert.strictEqual(yield* read, "sk-second-and-longer")
      writeFileSync(keyPath, "")
      assert.strictEqual(yield* read, "sk-second-and-longer")
      const missing = yield* Effect.flip(
        poolOptionsOf(
          yield* settingsFrom(
            layerWithGenerator({
              pools: { judge: { endpoints: ["http://j:8000"], apiKey: { file: "/nonexistent/key" } } },
            }),
          ),
        ),
      )
      assert.include(missing.message, "pools.judge.apiKey: cannot read /nonexistent/key")
    }),
  )

  it.effect(
    "capabilities are declared per pool, each key optional; a misspelt one is refused, naming the known ones",
    () =>
      Effect.gen(function* () {
        const settings = yield* settingsFrom(
          layerWithGenerator({
            pools: {
              judge: { endpoints: ["http://j:8000"], capabilities: { continuation: false, constrainedChoice: "none" } },
            },
          }),
        )
        const pools = yield* poolOptionsOf(settings)
        assert.deepStrictEqual(pools.find((pool) => pool.name === "judge")?.capabilities, {
          continuation: false,
          constrainedChoice: "none",
        })
        const typo = yield* Effect.flip(
          settingsFrom(
            layerWithGenerator({
              pools: { judge: { endpoints: ["http://j:8000"], capabilities: { contination: false } as never } },
            }),
          ),
        )
        assert.include(
          typo.message,
          "pools.judge.capabilities: unknown capability contination (known: n, stop, continuation",
        )
        const wrong = yield* Effect.flip(
          settingsFrom(
            layerWithGenerator({
              pools: { judge: { endpoints: ["http://j:8000"], capabilities: { constrainedChoice: "regex" as never } } },
            }),
          ),
        )
        assert.include(wrong.message, "pools.judge.capabilities.constrainedChoice")
      }),
  )

  it.effect("a judge declares its kind's options: verdicts, and the image per step kind, each key optional", () =>
    Effect.gen(function* () {
      const settings = yield* settingsFrom(
        layerWithGenerator({
          judges: {
            big: { kind: "pairwise", pool: "generator", verdicts: "free_text", images: { REASONING: false } },
          },
          defaultJudge: "big",
        }),
      )
      assert.deepStrictEqual(judgeDeclarationsOf(settings), [
        {
          name: "big",
          kind: "pairwise",
          pool: "generator",
          options: { verdicts: "free_text", images: { REASONING: false } },
        },
      ])
      const typo = yield* Effect.flip(
        settingsFrom(
          layerWithGenerator({
            judges: { big: { kind: "pairwise", pool: "generator", images: { REASONIN: false } } },
            defaultJudge: "big",
          }),
        ),
      )
      assert.include(typo.message, "judges.big.images: unknown step kind REASONIN (known: SUMMARY, CAPTION")
    }),
  )

  it.effect("the test settings read no environment, however hostile", () =>
    Effect.gen(function* () {
      const saved = { ...process.env }
      Object.assign(process.env, {
        STAGEBEAM_ENDPOINTS: "http://127.0.0.1:9",
        STAGEBEAM_GRPC_PORT: "not-a-port",
        STAGEBEAM_CONFIG: "/nonexistent.yaml",
      })
      const settings = yield* settingsFrom(GatewaySettings.layerTest())
      process.env = saved
      assert.notInclude(settings.pools.generator?.endpoints ?? [], "http://127.0.0.1:9")
      assert.strictEqual(settings.grpc.port, 0)
    }),
  )
})
