import { assert, describe, it } from "@effect/vitest"
import { freeBlocks, freeBytes } from "../src/FreeBytes.ts"

const MB = 1024 * 1024

describe("dead bytes given back at once", () => {
  it("a Buffer with its own memory is freed by freeBytes: detached, the process's Buffers down by its size", () => {
    const bytes = Buffer.allocUnsafeSlow(8 * MB).fill(1)
    const before = process.memoryUsage().arrayBuffers
    freeBytes(bytes)
    assert.isTrue(bytes.buffer.detached)
    assert.strictEqual(bytes.length, 0)
    assert.isAtLeast(before - process.memoryUsage().arrayBuffers, 8 * MB)
  })

  it("a slice of Node's shared pool, or a view into a larger buffer, is left as it is, and so are its neighbours", () => {
    const pooled = Buffer.from("abc")
    const neighbour = Buffer.from("xyz")
    assert.notStrictEqual(pooled.byteLength, pooled.buffer.byteLength, "a pooled Buffer shares its ArrayBuffer")
    freeBytes(pooled)
    assert.strictEqual(pooled.toString(), "abc")
    assert.strictEqual(neighbour.toString(), "xyz")
    const whole = Buffer.allocUnsafeSlow(MB).fill(7)
    const view = whole.subarray(10, 20)
    freeBytes(view)
    assert.isFalse(whole.buffer.detached)
    assert.strictEqual(view[0], 7)
  })

  it("freeBlocks detaches each block still attached and passes over one moved already", () => {
    const kept = new ArrayBuffer(MB)
    const moved = new ArrayBuffer(MB)
    structuredClone(moved, { transfer: [moved] })
    assert.isTrue(moved.detached)
    freeBlocks([moved, kept])
    assert.isTrue(kept.detached)
  })
})
