import { execFile } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { promisify } from "node:util"
import { assert, describe, it } from "@effect/vitest"
import { GatewaySettings, serveGateway } from "@stagebeam/gateway"
import { Effect } from "effect"
import { plainEnvironment } from "./binary.ts"

const run = promisify(execFile)
const PACKAGE = join(import.meta.dirname, "..")
const WORKSPACE = join(PACKAGE, "../..")
const plain = plainEnvironment()

describe("the stagebeam package", () => {
  it.live("npx stagebeam runs from the workspace", () =>
    Effect.gen(function* () {
      const { stdout } = yield* Effect.promise(() =>
        run("npx", ["stagebeam", "--version"], { cwd: WORKSPACE, env: plain }),
      )
      assert.strictEqual(stdout.trim(), "stagebeam v0.1.0")
    }),
  )

  it.live(
    "npm pack makes a tarball that `npm install -g` installs offline, and its stagebeam works outside the workspace",
    () =>
      Effect.gen(function* () {
        const { address } = yield* serveGateway.pipe(
          Effect.provide(GatewaySettings.layerTest({ simulator: { servers: 1 } })),
        )
        const temp = mkdtempSync(join(tmpdir(), "stagebeam-pack-"))
        yield* Effect.promise(() => run("npm", ["pack", "--pack-destination", temp], { cwd: PACKAGE }))
        const tarball = readdirSync(temp).find((file) => file.endsWith(".tgz"))
        assert.strictEqual(tarball, "stagebeam-cli-0.1.0.tgz")
        const prefix = join(temp, "prefix")
        // The package bundles everything: nothing to fetch.
        yield* Effect.promise(() =>
          run(
            "npm",
            ["install", "-g", "--prefix", prefix, join(temp, tarball!), "--offline", "--no-audit", "--no-fund"],
            {
              cwd: temp,
            },
          ),
        )
        const installed = join(prefix, "bin/stagebeam")
        assert.isTrue(existsSync(installed))
        // The system's node when there is one (the package needs Node >= 20, not the workspace's 24), else the one
        // running this test; no workspace on the way.
        const system = ["/usr/local/bin/node", "/usr/bin/node"].some((node) => existsSync(node))
        const path = system ? "/usr/local/bin:/usr/bin:/bin" : `${dirname(process.execPath)}:/usr/bin:/bin`
        const env = { ...plain, PATH: path, STAGEBEAM_TOKEN: "" }
        const stagebeam = (...args: ReadonlyArray<string>) =>
          Effect.promise(() => run(installed, args, { cwd: temp, env }))
        assert.strictEqual((yield* stagebeam("--version")).stdout.trim(), "stagebeam v0.1.0")
        assert.strictEqual((yield* stagebeam("health", "-a", address)).stdout.trim(), "stagebeam.v1.Reasoner: SERVING")
        const answer = yield* stagebeam("reason", "-a", address, "-q", "What is 2 + 2?", "--strategy", "greedy")
        assert.isAbove(answer.stdout.trim().length, 0)
        const shipped = join(prefix, "lib/node_modules/@stagebeam/cli/data/demo-mcq.tsv")
        const out = join(temp, "eval")
        const evaluated = yield* stagebeam(
          "eval",
          shipped,
          "--out",
          out,
          "-a",
          address,
          "--limit",
          "2",
          "--strategies",
          "greedy",
        )
        assert.match(evaluated.stdout, /^greedy\s+2\s/m)
        assert.isTrue(existsSync(join(out, "report.html")))
      }),
    120_000,
  )
})
