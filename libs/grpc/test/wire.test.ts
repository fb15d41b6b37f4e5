import { describe, it } from "@effect/vitest"
import { Effect } from "effect"
import fc from "fast-check"
import { findService, loadProto } from "../src/index.ts"
import { wireProblem } from "../src/WireFormat.ts"
import { echoProtoPath, echoService } from "./fixtures/echo.ts"

describe("wireProblem", () => {
  it.effect("accepts every whole message, and every cut inside a field is named", () =>
    Effect.gen(function* () {
      const say = (yield* findService(yield* loadProto(echoProtoPath), echoService)).Say!
      fc.assert(
        fc.property(fc.string({ maxLength: 300 }), fc.constantFrom("ok", "fail", "gate"), (text, mode) => {
          const whole = say.requestSerialize({ text, mode }) as Buffer
          if (wireProblem(whole) !== undefined) return false
          // Every prefix either ends between fields (a valid shorter message) or is refused.
          for (let length = 0; length < whole.length; length++) {
            const prefix = whole.subarray(0, length)
            if (wireProblem(prefix) === undefined) {
              const decoded = say.requestDeserialize(prefix) as { text: string }
              if (decoded.text !== "" && decoded.text !== text) return false
            }
          }
          return true
        }),
      )
    }),
  )

  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const problem = wireProblem(bytes)
        return problem === undefined || typeof problem === "string"
      }),
    )
  })
})
