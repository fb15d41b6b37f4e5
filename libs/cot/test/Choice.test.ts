import { assert, describe, it } from "@effect/vitest"
import { extractChoice } from "../src/index.ts"

const options = { A: "a cat", B: "a dog", C: "a bird" }

describe("extractChoice (VLMEvalKit can_infer without the LLM fallback)", () => {
  it("takes a lone option letter among the tokens, ignoring punctuation", () => {
    assert.strictEqual(extractChoice("B", options), "B")
    assert.strictEqual(extractChoice("(C).", options), "C")
    assert.strictEqual(extractChoice("The answer is **A**", options), "A")
  })

  it("falls back to a unique option text when no single letter stands alone", () => {
    assert.strictEqual(extractChoice("It shows a dog playing", options), "B")
    assert.strictEqual(extractChoice("A or B, or maybe a bird", options), "C")
  })

  it("gives up when ambiguous, and maps refusals to Z", () => {
    assert.isUndefined(extractChoice("a cat and a dog", options))
    assert.strictEqual(extractChoice("Cannot determine the answer", options), "Z")
    assert.strictEqual(extractChoice("Z", options), "Z")
  })
})
