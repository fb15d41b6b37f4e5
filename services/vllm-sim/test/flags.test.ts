import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { assert, describe, it } from "@effect/vitest"

const run = promisify(execFile)

/** Runs the simulator's command line with `flags`; it must refuse them before it listens. */
const refused = async (flags: ReadonlyArray<string>) => {
  try {
    await run(process.execPath, ["bin/vllm-sim.js", "--port", "0", ...flags], {
      cwd: `${import.meta.dirname}/..`,
      timeout: 15_000,
    })
    return { code: 0, stderr: "" }
  } catch (error) {
    const failed = error as { code?: number; stderr?: string }
    return { code: failed.code ?? -1, stderr: failed.stderr ?? "" }
  }
}

describe("vllm-sim flags", () => {
  it("refuses a value that is not a number, or out of range, naming the flag (exit code 2)", async () => {
    for (const [flags, message] of [
      [["--max-num-seqs", "foo"], 'invalid --max-num-seqs "foo": expected an integer ≥ 1'],
      [["--speed", "0"], 'invalid --speed "0"'],
      [["--judge-accuracy", "1.5"], 'invalid --judge-accuracy "1.5": expected a number in [0, 1]'],
      [["--scheduling-policy", "lifo"], 'invalid --scheduling-policy "lifo": expected one of fcfs, priority'],
      [
        ["--behaviour", "tgi"],
        'invalid --behaviour "tgi": expected one of vllm-0.10, vllm-0.11, vllm-0.12, sglang, minimal',
      ],
    ] as const) {
      const { code, stderr } = await refused(flags)
      assert.strictEqual(code, 2, flags.join(" "))
      assert.include(stderr, message)
    }
  })
})
