import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { checkHealth } from "@stagebeam/grpc"
import { Effect } from "effect"
import ts from "typescript"

const gateway = join(import.meta.dirname, "..")
const repo = join(gateway, "../..")
const main = join(gateway, "src/main.ts")
const development = join(gateway, "src/dev/main.ts")

interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs an entry of the gateway as a process, with only the variables given (and PATH), to its exit. */
const run = (entry: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.promise(
    () =>
      new Promise<Ran>((done) => {
        const child = spawn(process.execPath, ["--conditions=@stagebeam/source", entry, ...args], {
          env: { PATH: process.env.PATH ?? "", STAGEBEAM_LOG_FORMAT: "json", ...env },
        })
        let stdout = ""
        let stderr = ""
        child.stdout.on("data", (chunk) => (stdout += chunk))
        child.stderr.on("data", (chunk) => (stderr += chunk))
        child.on("close", (code) => done({ code, stdout, stderr }))
      }),
  )

const writeFile = (name: string, text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), "stagebeam-entry-")), name)
  writeFileSync(path, text)
  return path
}

/** A package's files as `--conditions=@stagebeam/source` resolves them: its exports' source entries. */
const workspaceEntries = (specifier: string): ReadonlyArray<string> => {
  const [scope, name, ...rest] = specifier.split("/")
  const root = ["libs", "services"].map((dir) => join(repo, dir, name ?? "")).find((dir) => existsSync(dir))
  if (scope !== "@stagebeam" || root === undefined) return []
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
  const entry = manifest.exports?.[rest.length === 0 ? "." : `./${rest.join("/")}`]
  const target = typeof entry === "string" ? entry : (entry?.["@stagebeam/source"] ?? entry?.default)
  return target === undefined ? [] : [resolve(root, target)]
}

/** Every module a file reaches through its imports (static, dynamic and type-only), with the packages named. */
const importGraph = (entry: string) => {
  const files = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string) => {
    if (files.has(file)) return
    files.add(file)
    const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true)
    for (const { fileName: specifier } of importedFiles) {
      if (specifier.startsWith(".")) visit(resolve(dirname(file), specifier))
      else {
        packages.add(
          specifier
            .split("/")
            .slice(0, specifier.startsWith("@") ? 2 : 1)
            .join("/"),
        )
        for (const target of workspaceEntries(specifier)) visit(target)
      }
    }
  }
  visit(entry)
  return { files, packages }
}

describe("the production entry (main.ts)", () => {
  it("reaches no simulator code: its import graph and the gateway's dependencies leave @stagebeam/vllm-sim out", () => {
    const { files, packages } = importGraph(main)
    assert.isAbove(files.size, 50) // the walk followed the workspace packages
    assert.include([...packages], "@stagebeam/fleet")
    assert.notInclude([...packages], "@stagebeam/vllm-sim")
    for (const file of files) assert.notInclude(file, "services/vllm-sim", `${file} is the simulator's`)
    for (const file of files) assert.notInclude(file, "/src/dev/", `${file} is development-only`)
    const manifest = JSON.parse(readFileSync(join(gateway, "package.json"), "utf8"))
    assert.notProperty(manifest.dependencies, "@stagebeam/vllm-sim")
    // The walk does see the simulator where it is used: the development entry.
    assert.include([...importGraph(development).packages], "@stagebeam/vllm-sim")
  })

  it.effect(
    "with no generator pool it exits non-zero, naming what is missing",
    () =>
      Effect.gen(function* () {
        const ran = yield* run(main, [], {
          STAGEBEAM_GRPC_PORT: "0",
          STAGEBEAM_HTTP_PORT: "0",
          STAGEBEAM_METRICS_PORT: "0",
        })
        assert.notStrictEqual(ran.code, 0)
        assert.include(ran.stdout + ran.stderr, "pools.generator.endpoints: the generator pool has no servers")
        assert.include(ran.stdout + ran.stderr, "STAGEBEAM_ENDPOINTS")
      }),
    // Each spawns Node processes: slow on a loaded machine, not a measure of anything.
    120_000,
  )

  it.effect(
    "a settings file with an unknown key, at any depth, stops it with the path and the nearest key",
    () =>
      Effect.gen(function* () {
        const file = writeFile(
          "typo.yaml",
          "judgs: {}\npools:\n  generator:\n    endpoints: [http://127.0.0.1:9]\n  judge:\n    endpoint: [http://127.0.0.1:9]\n",
        )
        const ran = yield* run(main, [], { STAGEBEAM_CONFIG: file })
        assert.notStrictEqual(ran.code, 0)
        const output = ran.stdout + ran.stderr
        assert.include(output, `judgs (in ${file}): unknown key (did you mean "judges"?)`)
        assert.include(output, `pools.judge.endpoint (in ${file}): unknown key (did you mean "endpoints"?)`)
      }),
    120_000,
  )

  it.effect(
    "check-config: a good file exits 0 and prints the resolved settings; a bad one exits non-zero",
    () =>
      Effect.gen(function* () {
        const good = writeFile(
          "good.yaml",
          [
            "pools:",
            "  generator:",
            "    endpoints: [http://gpu-1:8000]",
            "    apiKey: { env: GPU_KEY }",
            "tracing:",
            "  endpoint: http://otel:4318/?api_key=sk-secret",
            "judges:",
            "  custom:",
            "    kind: pairwise",
            "    pool: generator",
            "    options: { token: sk-also-secret, rounds: 3 }",
            "defaultJudge: custom",
          ].join("\n"),
        )
        const ok = yield* run(main, ["check-config", good], {
          STAGEBEAM_UPSTREAM_ATTEMPTS: "2",
          STAGEBEAM_GRPC_PROT: "1",
        })
        assert.strictEqual(ok.code, 0, ok.stderr)
        assert.include(ok.stdout, "endpoints:\n      - http://gpu-1:8000")
        assert.include(ok.stdout, "attempts: 2") // the variables count, as at start
        assert.include(ok.stdout, "drainTimeout: 50s") // resolved: defaults filled in
        assert.include(ok.stdout, "env: GPU_KEY") // a reference, not a secret
        assert.notInclude(ok.stdout, "sk-secret")
        assert.notInclude(ok.stdout, "sk-also-secret")
        assert.include(ok.stdout, "rounds: 3")
        assert.include(ok.stderr, "STAGEBEAM_GRPC_PROT is not a setting's variable (did you mean STAGEBEAM_GRPC_PORT?)")

        const bad = yield* run(main, ["check-config", writeFile("bad.yaml", "upstream:\n  timout: 5s\n")])
        assert.notStrictEqual(bad.code, 0)
        assert.include(bad.stderr, "upstream.timout")
        assert.include(bad.stderr, 'did you mean "timeout"?')
      }),
    120_000,
  )
})

/** Starts an entry as a long-running process and resolves with its gRPC address once it says where it listens. */
const startServing = (entry: string, env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<{ readonly child: ChildProcess; readonly address: string; readonly output: () => string }>(
          (done, fail) => {
            const child = spawn(process.execPath, ["--conditions=@stagebeam/source", entry], {
              env: { PATH: process.env.PATH ?? "", ...env },
            })
            let output = ""
            const look = (chunk: Buffer) => {
              output += chunk
              const match = /listening on (\S+) \(gRPC/.exec(output)
              if (match !== null) done({ child, address: match[1]!, output: () => output })
            }
            child.stdout.on("data", look)
            child.stderr.on("data", look)
            child.on("exit", (code) => fail(new Error(`exited ${code} before serving:\n${output}`)))
          },
        ),
    ),
    ({ child }) => Effect.sync(() => child.kill("SIGTERM")),
  )

describe("the development entry (npm start)", () => {
  it.effect(
    "serves over simulated servers with nothing configured, handing their URLs over as the generator pool's",
    () =>
      Effect.gen(function* () {
        const started = yield* startServing(development, {
          STAGEBEAM_GRPC_HOST: "127.0.0.1",
          STAGEBEAM_GRPC_PORT: "0",
          STAGEBEAM_HTTP_HOST: "127.0.0.1",
          STAGEBEAM_HTTP_PORT: "0",
          STAGEBEAM_METRICS_PORT: "0",
          STAGEBEAM_LOG_FORMAT: "json",
        })
        const status = yield* checkHealth({ address: started.address, defaultDeadline: "5 seconds" }, "")
        assert.strictEqual(status, "SERVING")
        assert.include(started.output(), "SIMULATED: the generator pool is 2 vllm-sim servers")
        assert.match(started.output(), /endpoints:\s+- http:\/\/127\.0\.0\.1:\d+/)
      }).pipe(Effect.scoped),
    180_000,
  )
})
