import { execFile } from "node:child_process"
import { writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { assert, describe, it } from "@effect/vitest"
import { GatewaySettings, serveGateway } from "@stagebeam/gateway"
import { Effect } from "effect"
import sharp from "sharp"

const run = promisify(execFile)
const bin = join(import.meta.dirname, "../bin/stagebeam.js")

const gateway = serveGateway.pipe(Effect.provide(GatewaySettings.layerTest({ simulator: { servers: 1 } })))

describe("stagebeam reason", () => {
  it.live("prints the conclusion and the stages of an image question", () =>
    Effect.gen(function* () {
      const { address } = yield* gateway
      const image = join(tmpdir(), `stagebeam-cli-${process.pid}.png`)
      yield* Effect.promise(async () =>
        writeFile(
          image,
          await sharp({ create: { width: 32, height: 32, channels: 3, background: "#00aa00" } })
            .png()
            .toBuffer(),
        ),
      )
      const { stdout } = yield* Effect.promise(() =>
        run(process.execPath, [
          bin,
          "reason",
          "-a",
          address,
          "-q",
          "What is shown?",
          "-i",
          image,
          "--stages",
          "-n",
          "2",
        ]),
      )
      assert.include(stdout, "[SUMMARY]")
      assert.include(stdout, "[CONCLUSION]")
      assert.include(stdout, "STAGE_BEAM/KNOCKOUT")
      assert.include(stdout, "(preset DEFAULT; deviates from the reference in: tournament,")
    }),
  )

  it.live("--preset reference runs the reference's selection, and says so", () =>
    Effect.gen(function* () {
      const { address } = yield* gateway
      const { stdout } = yield* Effect.promise(() =>
        run(process.execPath, [
          bin,
          "reason",
          "-a",
          address,
          "-q",
          "What is 2 + 2?",
          "-n",
          "2",
          "--preset",
          "reference",
        ]),
      )
      assert.include(stdout, "STAGE_BEAM/SEQUENTIAL")
      assert.include(stdout, "(preset REFERENCE; the reference's selection exactly)")
    }),
  )

  it.live("sends a bearer token to a gateway that requires one", () =>
    Effect.gen(function* () {
      const tokens = join(tmpdir(), `stagebeam-cli-tokens-${process.pid}`)
      yield* Effect.promise(() => writeFile(tokens, "cli:cli-secret\n"))
      const { address } = yield* serveGateway.pipe(
        Effect.provide(GatewaySettings.layerTest({ simulator: { servers: 1 }, auth: { tokensFile: tokens } })),
      )
      const ask = (...extra: ReadonlyArray<string>) =>
        Effect.promise(() =>
          run(process.execPath, [bin, "reason", "-a", address, "-q", "2+2?", "--strategy", "greedy", ...extra]).then(
            ({ stdout }) => ({ code: 0, stdout, stderr: "" }),
            (error: { code: number; stdout: string; stderr: string }) => error,
          ),
        )
      const refused = yield* ask()
      assert.notStrictEqual(refused.code, 0)
      assert.include(refused.stderr, "bearer token")
      const answered = yield* ask("--token", "cli-secret")
      assert.strictEqual(answered.code, 0, answered.stderr)
      assert.include(answered.stdout, "GREEDY")
    }),
  )

  it.live("reports a refused request with its status and exits non-zero", () =>
    Effect.gen(function* () {
      const { address } = yield* gateway
      const failure = yield* Effect.promise(() =>
        run(process.execPath, [bin, "reason", "-a", address, "-q", "   "]).then(
          () => undefined,
          (error: { code: number; stderr: string }) => error,
        ),
      )
      assert.isDefined(failure)
      assert.strictEqual(failure?.code, 1)
      assert.include(failure?.stderr ?? "", "invalid question")
    }),
  )
})
