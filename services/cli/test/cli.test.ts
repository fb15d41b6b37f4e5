import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { assert, describe, it } from "@effect/vitest"
import { GatewaySettings, serveGateway } from "@stagebeam/gateway"
import { makeReasonerClient } from "@stagebeam/proto"
import { serveSimulator } from "@stagebeam/vllm-sim"
import { Effect, Fiber } from "effect"
import { bin, plainEnvironment, pngFile, STACK_FRAME, stagebeam } from "./binary.ts"

const gateway = serveGateway.pipe(Effect.provide(GatewaySettings.layerTest({ simulator: { servers: 1 } })))
const QUESTION = "Which shape is shown?\nA. circle\nB. square"
const EXIT = { usage: 2, invalidInput: 3, unavailable: 4, deadline: 5, unauthorized: 6 }

/** A port nothing listens on. */
const CLOSED = "127.0.0.1:1"

describe("stagebeam reason", () => {
  it.live("prints only the answer on stdout; the summary goes to stderr, and no status line off a terminal", () =>
    Effect.gen(function* () {
      const { address } = yield* gateway
      const { path } = yield* pngFile
      const ran = yield* stagebeam(["reason", "-a", address, "-q", QUESTION, "-i", path, "-n", "2", "--stages"])
      assert.strictEqual(ran.code, 0, ran.stderr)
      const [conclusion, ...rest] = ran.stdout.trimEnd().split("\n")
      assert.isAbove(conclusion!.length, 0)
      assert.include(rest, "[SUMMARY]")
      assert.include(rest, "[CONCLUSION]")
      assert.notInclude(ran.stdout, "STAGE_BEAM")
      assert.include(ran.stderr, "STAGE_BEAM/KNOCKOUT")
      assert.include(ran.stderr, "(judge self, preset DEFAULT; deviates from the reference in: tournament,")
      assert.notInclude(ran.stderr, "\x1b[2K", "no status line when stderr is not a terminal")
    }),
  )

  it.live("shows the search's progress on stderr on a terminal (and with --progress always)", () =>
    Effect.gen(function* () {
      const { address } = yield* gateway
      const forced = yield* stagebeam(["reason", "-a", address, "-q", QUESTION, "-n", "2", "--progress", "always"])
      assert.strictEqual(forced.code, 0, forced.stderr)
      assert.match(
        forced.stderr,
        /STAGE_BEAM N=2 · step \d\/4 (SUMMARY|CAPTION|REASONING|CONCLUSION) · candidates \d\/2 · matches \d · \d+\.\d s/,
      )
      // A real terminal (script(1) gives the command a pty): the status line shows by default.
      const command = [process.execPath, bin, "reason", "-a", address, "-q", "'2 + 2?'", "-n", "2"].join(" ")
      const { stdout } = yield* Effect.promise(() => promisify(execFile)("script", ["-qec", command, "/dev/null"]))
      assert.include(stdout, "\x1b[2K")
      assert.match(stdout, /step \d\/4/)
    }),
  )

  it.live("reads the question (-q -) or the image (-i -) from standard input", () =>
    Effect.gen(function* () {
      const { address } = yield* gateway
      const { bytes } = yield* pngFile
      const question = yield* stagebeam(["reason", "-a", address, "-q", "-", "--strategy", "greedy", "--json"], {
        stdin: "What is 2 + 2?\n",
      })
      assert.strictEqual(question.code, 0, question.stderr)
      assert.isAbove(JSON.parse(question.stdout).conclusion.length, 0)
      const image = yield* stagebeam(["reason", "-a", address, "-q", QUESTION, "-i", "-", "--strategy", "greedy"], {
        stdin: bytes,
      })
      assert.strictEqual(image.code, 0, image.stderr)
      const both = yield* stagebeam(["reason", "-a", address, "-q", "-", "-i", "-"])
      assert.strictEqual(both.code, EXIT.usage)
      assert.include(both.stderr, "both read standard input")
    }),
  )

  it.live(
    "--stream prints the events on stderr, previews that differ, order flips marked; the answer alone on stdout",
    () =>
      Effect.gen(function* () {
        // A judge that always favours the first response: judged in both orders, every verdict flips.
        const server = yield* serveSimulator({ port: 0, host: "127.0.0.1", speed: 500, seed: 3, positionBias: 1 }).pipe(
          Effect.orDie,
        )
        const { address } = yield* serveGateway.pipe(
          Effect.provide(GatewaySettings.layerTest({ pools: { generator: { endpoints: [server.url] } } })),
        )
        const ran = yield* stagebeam([
          "reason",
          ...["-a", address, "-q", QUESTION, "-n", "4", "--seed", "11"],
          ...["--stream", "--both-orders"],
        ])
        assert.strictEqual(ran.code, 0, ran.stderr)
        assert.strictEqual(ran.stdout.trim().split("\n").length, 1, "only the conclusion on stdout")
        assert.include(ran.stderr, "step 0 SUMMARY: 4 candidates")
        assert.include(ran.stderr, "[order flip")
        const candidates = ran.stderr.split("\n").filter((line) => /^\s+\d+ ms\s+#\d /.test(line))
        // Three sampled stages (a text-only question gets a fixed caption), four candidates each.
        assert.isAtLeast(candidates.length, 12)
        // Previews start where the step's candidates stop agreeing.
        assert.isTrue(
          candidates.some((line) => /#\d …/.test(line)),
          candidates.join("\n"),
        )
      }),
  )

  it.live("exits by cause: usage 2, invalid input 3, unavailable 4, deadline 5, unauthorized 6; no stack traces", () =>
    Effect.gen(function* () {
      const { address } = yield* gateway
      const unknownFlag = yield* stagebeam(["reason", "-a", address, "-q", "x", "--strategi", "greedy"])
      assert.strictEqual(unknownFlag.code, EXIT.usage)
      assert.notInclude(unknownFlag.stderr, "FLAGS", "a usage error names the problem, not the whole help")
      assert.include(unknownFlag.stderr, "--strategi")
      assert.include(unknownFlag.stderr, "stagebeam reason --help")
      const badChoice = yield* stagebeam(["reason", "-a", address, "-q", "x", "--strategy", "beam"])
      assert.strictEqual(badChoice.code, EXIT.usage)
      const missing = yield* stagebeam(["reason", "-a", address])
      assert.strictEqual(missing.code, EXIT.usage)
      assert.include(missing.stderr, "--question")

      const refused = yield* stagebeam(["reason", "-a", address, "-q", "   "])
      assert.strictEqual(refused.code, EXIT.invalidInput)
      assert.include(refused.stderr, "invalid question")
      const noFile = yield* stagebeam(["reason", "-a", address, "-q", "x", "-i", "/nonexistent/photo.png"])
      assert.strictEqual(noFile.code, EXIT.invalidInput)
      assert.include(noFile.stderr, "cannot read the image /nonexistent/photo.png: no such file")
      assert.notMatch(noFile.stderr, STACK_FRAME)

      const down = yield* stagebeam(["reason", "-a", CLOSED, "-q", "x", "--deadline", "5"])
      assert.strictEqual(down.code, EXIT.unavailable, down.stderr)
      assert.include(down.stderr, "UNAVAILABLE")
      assert.notMatch(down.stderr, STACK_FRAME)
    }),
  )

  it.live("exits 5 when the deadline passes (queued behind a full gateway)", () =>
    Effect.gen(function* () {
      const server = yield* serveSimulator({ port: 0, host: "127.0.0.1", speed: 1, seed: 1 }).pipe(Effect.orDie)
      const { address } = yield* serveGateway.pipe(
        Effect.provide(
          GatewaySettings.layerTest({
            pools: { generator: { endpoints: [server.url] } },
            admission: { maxRunningSequences: 4 },
          }),
        ),
      )
      const client = yield* makeReasonerClient({ address, defaultDeadline: "60 seconds" })
      const holder = yield* Effect.forkChild(client.Reason({ question: QUESTION, search: { candidatesPerStage: 4 } }))
      yield* Effect.sleep("300 millis")
      const late = yield* stagebeam(["reason", "-a", address, "-q", QUESTION, "--deadline", "1"])
      assert.strictEqual(late.code, EXIT.deadline, late.stderr)
      assert.include(late.stderr, "DEADLINE_EXCEEDED")
      yield* Fiber.interrupt(holder)
    }),
  )

  it.live("sends a bearer token (--token or STAGEBEAM_TOKEN); a refused one exits 6", () =>
    Effect.gen(function* () {
      const tokens = join(mkdtempSync(join(tmpdir(), "stagebeam-cli-tokens-")), "tokens")
      writeFileSync(tokens, "cli:cli-secret\n")
      const { address } = yield* serveGateway.pipe(
        Effect.provide(GatewaySettings.layerTest({ simulator: { servers: 1 }, auth: { tokensFile: tokens } })),
      )
      const ask = ["reason", "-a", address, "-q", "2+2?", "--strategy", "greedy"]
      const refused = yield* stagebeam(ask)
      assert.strictEqual(refused.code, EXIT.unauthorized)
      assert.include(refused.stderr, "bearer token")
      const answered = yield* stagebeam([...ask, "--token", "cli-secret"])
      assert.strictEqual(answered.code, 0, answered.stderr)
      const fromEnvironment = yield* stagebeam(ask, { env: { STAGEBEAM_TOKEN: "cli-secret" } })
      assert.strictEqual(fromEnvironment.code, 0, fromEnvironment.stderr)
    }),
  )

  it.live("works with a token limited to Reason: the unary call unless events are shown", () =>
    Effect.gen(function* () {
      const tokens = join(mkdtempSync(join(tmpdir(), "stagebeam-cli-tokens-")), "tokens")
      writeFileSync(tokens, "unary:unary-secret:methods=Reason\n")
      const { address } = yield* serveGateway.pipe(
        Effect.provide(GatewaySettings.layerTest({ simulator: { servers: 1 }, auth: { tokensFile: tokens } })),
      )
      const ask = ["reason", "-a", address, "-q", "2+2?", "-n", "2", "--token", "unary-secret"]
      const plain = yield* stagebeam([...ask, "--trace"])
      assert.strictEqual(plain.code, 0, plain.stderr)
      assert.match(plain.stderr, /match/, "the trace comes with the unary answer")
      // The status line wants events; the stream is refused for this token, so the unary call answers.
      const progress = yield* stagebeam([...ask, "--progress", "always"])
      assert.strictEqual(progress.code, 0, progress.stderr)
      assert.isAbove(progress.stdout.trim().length, 0)
      // --stream needs the stream: refused, exit 6.
      const streamed = yield* stagebeam([...ask, "--stream"])
      assert.strictEqual(streamed.code, EXIT.unauthorized, streamed.stderr)
      assert.include(streamed.stderr, "PERMISSION_DENIED")
    }),
  )

  it.live("--preset reference runs the reference's selection, and says so", () =>
    Effect.gen(function* () {
      const { address } = yield* gateway
      const ran = yield* stagebeam([
        "reason",
        "-a",
        address,
        "-q",
        "What is 2 + 2?",
        "-n",
        "2",
        "--preset",
        "reference",
      ])
      assert.strictEqual(ran.code, 0, ran.stderr)
      assert.include(ran.stderr, "STAGE_BEAM/SEQUENTIAL")
      assert.match(ran.stderr, /\(judge self(-free-text)?, preset REFERENCE; the reference's selection exactly\)/)
    }),
  )
})

describe("stagebeam --help", () => {
  it.live("describes every flag of every command with its default", () =>
    Effect.gen(function* () {
      for (const command of ["reason", "health", "judges", "eval"]) {
        const help = yield* stagebeam([command, "--help"])
        assert.strictEqual(help.code, 0)
        const section = help.stdout.split("FLAGS\n")[1]!.split("\n\n")[0]!
        const flags = section.split("\n").filter((line) => line.trim().startsWith("--"))
        assert.isAtLeast(flags.length, command === "judges" ? 4 : 5, command)
        for (const line of flags) assert.match(line, /\s{2,}\S.*\(default: [^)]+\)/, `${command}: ${line.trim()}`)
      }
    }),
  )
})

describe("stagebeam judges", () => {
  it.live("lists the gateway's judges with the default marked; --judge picks one by name, an unknown one exits 3", () =>
    Effect.gen(function* () {
      const { address } = yield* gateway
      const listed = yield* stagebeam(["judges", "-a", address])
      assert.strictEqual(listed.code, 0, listed.stderr)
      const rows = listed.stdout.trimEnd().split("\n")
      assert.match(rows[0]!, /^name\s+kind\s+judging\s+verdicts\s+pool\s+model\s+can$/)
      assert.match(listed.stdout, /^self \*\s+pairwise\s+pairwise\s+choice\s+generator\s+\S+\s+choice:/m)
      assert.match(listed.stdout, /^reward\s+reward\s+pointwise\s+-\s+reward\s+/m)
      const json = JSON.parse((yield* stagebeam(["judges", "-a", address, "--json"])).stdout)
      assert.strictEqual(json.defaultJudge, "self")
      assert.includeMembers(
        json.judges.map((judge: { name: string }) => judge.name),
        ["self", "self-free-text", "reward"],
      )

      const byReward = yield* stagebeam(["reason", "-a", address, "-q", QUESTION, "-n", "2", "--judge", "reward"])
      assert.strictEqual(byReward.code, 0, byReward.stderr)
      assert.include(byReward.stderr, "(judge reward, preset DEFAULT;")
      const swires = yield* stagebeam([
        "reason",
        "-a",
        address,
        "-q",
        QUESTION,
        "--strategy",
        "swires",
        "--judge",
        "reward",
      ])
      assert.strictEqual(swires.code, 0, swires.stderr)
      assert.include(swires.stderr, "SWIRES")

      const unknown = yield* stagebeam(["reason", "-a", address, "-q", QUESTION, "--judge", "nope"])
      assert.strictEqual(unknown.code, EXIT.invalidInput)
      assert.include(unknown.stderr, 'unknown judge "nope"')
      assert.include(unknown.stderr, "self, self-free-text, reward")
      assert.notMatch(unknown.stderr, STACK_FRAME)
      const down = yield* stagebeam(["judges", "-a", CLOSED, "--deadline", "2"])
      assert.strictEqual(down.code, EXIT.unavailable)
    }),
  )
})

describe("stagebeam health", () => {
  it.live("says SERVING and exits 0; an unreachable gateway exits 4", () =>
    Effect.gen(function* () {
      const { address } = yield* gateway
      const up = yield* stagebeam(["health", "-a", address])
      assert.strictEqual(up.code, 0, up.stderr)
      assert.strictEqual(up.stdout.trim(), "stagebeam.v1.Reasoner: SERVING")
      const down = yield* stagebeam(["health", "-a", CLOSED, "--deadline", "2"])
      assert.strictEqual(down.code, EXIT.unavailable)
      assert.notMatch(down.stderr, STACK_FRAME)
    }),
  )
})

describe("the workspace's bin", () => {
  it.live("runs the bundle, rebuilt when a source it was built from changes", () =>
    Effect.gen(function* () {
      const inputs = join(import.meta.dirname, "../dist/cli/inputs.json")
      const first = yield* stagebeam(["--version"])
      assert.strictEqual(first.code, 0, first.stderr)
      const source = join(import.meta.dirname, "../src/Format.ts")
      assert.property(JSON.parse(readFileSync(inputs, "utf8")), source)
      const later = new Date(Date.now() + 1000)
      utimesSync(source, later, later)
      const again = yield* stagebeam(["--version"])
      assert.strictEqual(again.code, 0, again.stderr)
      assert.strictEqual(JSON.parse(readFileSync(inputs, "utf8"))[source], statSync(source).mtimeMs)
    }),
  )

  it.live("hands itself to the project's Node 24 on a Node that strips no types (Node 20)", () =>
    Effect.gen(function* () {
      const ran = yield* Effect.promise(() =>
        promisify(execFile)(process.execPath, ["--no-experimental-strip-types", bin, "--version"], {
          env: plainEnvironment(),
        }),
      )
      assert.include(ran.stdout, "stagebeam v0.1.0")
    }),
  )
})
