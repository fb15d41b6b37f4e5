import { randomBytes } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { flatDataUrl } from "../src/images/DataUrl.ts"

describe("an image's data: URL made in one allocation", () => {
  it("is the same string as the prefix joined to Node's base64, whatever the length's remainder", () => {
    for (const length of [0, 1, 2, 3, 4, 5, 6, 7, 255, 256, 257, 125_612, 181_669]) {
      const bytes = randomBytes(length)
      // A view into a larger buffer, as the image pass's output can be.
      const backing = Buffer.concat([randomBytes(5), bytes, randomBytes(3)])
      const view = new Uint8Array(backing.buffer, backing.byteOffset + 5, length)
      for (const image of [
        { mime: "image/jpeg", bytes },
        { mime: "image/png", bytes: view },
      ]) {
        assert.strictEqual(
          flatDataUrl(image),
          `data:${image.mime};base64,${Buffer.from(bytes).toString("base64")}`,
          `${length} bytes`,
        )
      }
    }
  })
})
