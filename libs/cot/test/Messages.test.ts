import { assert, describe, it } from "@effect/vitest"
import { continuationFlags, continuationMessages, userTurn } from "../src/index.ts"

describe("prompts as the model was trained", () => {
  it("puts the image first, then the question, in one user turn without a system prompt", () => {
    assert.deepStrictEqual(userTurn({ question: "What colour?", imageUrl: "data:image/png;base64,AA" }), {
      role: "user",
      content: [
        { type: "image_url", image_url: { url: "data:image/png;base64,AA" } },
        { type: "text", text: "What colour?" },
      ],
    })
  })

  it("sends only the text for a text-only question", () => {
    assert.deepStrictEqual(userTurn({ question: "2+2?" }).content, [{ type: "text", text: "2+2?" }])
  })

  it("continues a prefix as a partial assistant message", () => {
    const messages = continuationMessages("q", "http://x/i.png", "<SUMMARY>s</SUMMARY>")
    assert.strictEqual(messages.length, 2)
    assert.deepStrictEqual(messages[1], { role: "assistant", content: "<SUMMARY>s</SUMMARY>" })
    assert.deepStrictEqual(continuationFlags("<SUMMARY>s</SUMMARY>"), {
      continue_final_message: true,
      add_generation_prompt: false,
    })
  })

  it("starts a fresh answer when the prefix is empty", () => {
    const messages = continuationMessages("q", undefined, "")
    assert.strictEqual(messages.length, 1)
    assert.strictEqual(messages[0]?.role, "user")
    assert.deepStrictEqual(continuationFlags(""), { continue_final_message: false, add_generation_prompt: true })
  })
})
