import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import llama3Tokenizer from "llama3-tokenizer-js"
import { countTokens, estimateTokens } from "../src/TokenEstimate.ts"

const exact = (text: string) => llama3Tokenizer.encode(text, { bos: false, eos: false }).length

/** How many turns the event loop made while `work` ran (0: the work held it throughout). */
const loopTurns = <A>(work: Effect.Effect<A>) =>
  Effect.gen(function* () {
    let turns = 0
    let running = true
    const turn = () => {
      if (!running) return
      turns++
      setImmediate(turn)
    }
    setImmediate(turn)
    const result = yield* work
    running = false
    return { result, turns }
  })

const randomLetters = (length: number) => {
  let seed = 7
  return Array.from({ length }, () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
    return String.fromCharCode(97 + (seed % 26))
  }).join("")
}

describe("token counts", () => {
  it.effect("of ordinary text are the tokenizer's own", () =>
    Effect.gen(function* () {
      const text = "Which shape is shown in the image?\nA. circle\nB. square\n".repeat(200)
      assert.strictEqual(yield* countTokens(text), exact(text))
      assert.strictEqual(yield* countTokens(""), 0)
    }),
  )

  it.live("of a megabyte of one letter are counted in part and extrapolated", () =>
    Effect.gen(function* () {
      // 8 letters a token in the counted part, extrapolated over the rest (whole, it took 7 s).
      assert.approximately(yield* countTokens("x".repeat(1_000_000)), 125_000, 2_000)
    }),
  )

  it.live("of 300 k random letters do not overflow the stack, and the event loop turns while they are counted", () =>
    Effect.gen(function* () {
      yield* countTokens("warm up")
      const { result, turns } = yield* loopTurns(countTokens(randomLetters(300_000)))
      assert.isAbove(result, 50_000)
      assert.isAbove(turns, 0)
    }),
  )

  it.live("estimated for a server that sends no usage cover prompt and completions, however long", () =>
    Effect.gen(function* () {
      const usage = yield* estimateTokens(
        [{ role: "user", content: [{ type: "text", text: "What is shown?" }] }],
        ["The answer is B.", "y".repeat(2_000_000)],
      )
      assert.strictEqual(usage.prompt_tokens, 1 + exact("What is shown?") + 5)
      assert.isAbove(usage.completion_tokens, 200_000)
      assert.isTrue(usage.estimated)
    }),
  )
})
