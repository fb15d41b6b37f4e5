import { assert, describe, it } from "@effect/vitest"
import { Result, Schema } from "effect"
import { DEFAULTS, Sampling } from "../src/index.ts"

const decode = Schema.decodeUnknownResult(Sampling)

describe("sampling options", () => {
  it("fills the paper's defaults", () => {
    assert.deepStrictEqual(Result.getOrThrow(decode({})), { temperature: 0.6, topP: 0.9, maxTokens: 2048 })
    assert.deepStrictEqual(Result.getOrThrow(decode({ topP: 0.5 })), { temperature: 0.6, topP: 0.5, maxTokens: 2048 })
    assert.strictEqual(DEFAULTS.candidates, 4)
  })

  it("rejects out-of-bounds values and names the field", () => {
    const decoded = decode({ temperature: 5 })
    assert.isTrue(Result.isFailure(decoded))
    assert.include(String(Result.isFailure(decoded) ? decoded.failure : "decoded"), "temperature")
    assert.isTrue(Result.isFailure(decode({ maxTokens: 1.5 })))
    assert.isTrue(Result.isFailure(decode({ topP: 0 })))
  })
})
