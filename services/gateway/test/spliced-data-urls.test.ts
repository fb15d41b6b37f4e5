import { randomBytes } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { parseJsonBody } from "../src/http/JsonBody.ts"
import { readDataUrl } from "../src/images/ImageSource.ts"

const parse = (body: unknown) => {
  const bytes = Buffer.from(JSON.stringify(body))
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer
  return Effect.runSync(parseJsonBody({ blocks: [copy], length: copy.byteLength }, 10_000))
}

const chat = (url: string, text = "Which shape?") => ({
  model: "m",
  messages: [
    {
      role: "user",
      content: [
        { type: "image_url", image_url: { url } },
        { type: "text", text },
      ],
    },
  ],
})

describe("data URLs spliced out of a body between 16 kB and 1 MB", () => {
  it("an image part's image is read from the body's bytes as readDataUrl reads its URL, right or wrong", () => {
    const payload = randomBytes(60_000).toString("base64")
    const urls = {
      plain: `data:image/jpeg;base64,${payload}`,
      urlSafe: `data:image/PNG;base64,${payload.replaceAll("+", "-").replaceAll("/", "_")}`,
      unpadded: `data:image/webp;base64,${randomBytes(40_001).toString("base64").replace(/=+$/, "")}`,
      padInTheMiddle: `data:image/jpeg;base64,${payload.slice(0, 40_000)}=${payload.slice(40_000)}`,
      threePads: `data:image/jpeg;base64,${payload}===`,
      onlyPads: `data:image/jpeg;base64,==${" ".repeat(0)}`,
    }
    for (const [name, url] of Object.entries(urls)) {
      // Small bodies are not spliced: pad the text so that each is.
      const parsed = parse(chat(url, "x".repeat(20_000)))
      const placed = (parsed.value as ReturnType<typeof chat>).messages[0]!.content[0]!.image_url!.url
      const read = parsed.dataUrls.get(placed)
      assert.isDefined(read, name)
      assert.deepStrictEqual(read, readDataUrl(url), name)
    }
  })

  it("a data URL anywhere else is put back as its string; the rest of the value is JSON.parse's", () => {
    const url = `data:image/jpeg;base64,${randomBytes(30_000).toString("base64")}`
    const body = { ...chat("https://example.com/a.png", url), extra: [url, { url }], image_url: { note: url } }
    const parsed = parse(body)
    assert.deepStrictEqual(parsed.value, body)
    assert.strictEqual(parsed.dataUrls.size, 0)
  })
})
