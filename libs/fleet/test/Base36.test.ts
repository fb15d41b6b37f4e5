import { assert, describe, it } from "@effect/vitest"
import { base36 } from "../src/Base36.ts"

describe("base36", () => {
  it("writes every safe integer as toString(36) does: edges, powers of 36 and a million draws", () => {
    const edges = [0, 1, -1, 35, 36, -36, 2 ** 52, -(2 ** 52), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]
    const powers = Array.from({ length: 11 }, (_, i) => 36 ** i).flatMap((power) => [power - 1, power, power + 1])
    for (const value of [...edges, ...powers]) assert.strictEqual(base36(value), value.toString(36), `${value}`)
    const span = Number.MAX_SAFE_INTEGER - Number.MIN_SAFE_INTEGER + 1
    for (let i = 0; i < 1_000_000; i++) {
      const value = Math.floor(Math.random() * span) + Number.MIN_SAFE_INTEGER
      if (base36(value) !== value.toString(36)) assert.fail(`${value}: ${base36(value)} != ${value.toString(36)}`)
    }
  })

  it("leaves what is not a safe integer to toString(36)", () => {
    for (const value of [0.5, -2.25, 2 ** 60, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.strictEqual(base36(value), value.toString(36))
    }
  })
})
