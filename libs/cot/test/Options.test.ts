import { assert, describe, it } from "@effect/vitest"
import { Result, Schema } from "effect"
import { DEFAULTS, SamplingOptions } from "../src/index.ts"

const decode = Schema.decodeUnknownResult(SamplingOptions)

describe("sampling options", () => {
  it("fills the paper's defaults", () => {
    const decoded = decode({})
    assert.isTrue(Result.isSuccess(decoded))
    if (Result.isSuccess(decoded)) {
      assert.deepStrictEqual(decoded.success, { temperature: 0.6, topP: 0.9, maxTokens: 2048 })
    }
    assert.strictEqual(DEFAULTS.candidates, 4)
  })

  it("rejects out-of-bounds values and names the field", () => {
    const decoded = decode({ temperature: 5 })
    assert.isTrue(Result.isFailure(decoded))
    if (Result.isFailure(decoded)) assert.include(String(decoded.failure), "temperature")
    assert.isTrue(Result.isFailure(decode({ maxTokens: 1.5 })))
    assert.isTrue(Result.isFailure(decode({ topP: 0 })))
  })
})
