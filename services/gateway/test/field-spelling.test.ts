import { assert, describe, it } from "@effect/vitest"
import { Sampling } from "@stagebeam/cot"
import { loadReasonerPackageDefinition, snakeCase } from "@stagebeam/proto"
import { SearchRequest, SwiresOptions } from "@stagebeam/search"
import { chatField, FIRST_MESSAGE } from "../src/http/ChatFields.ts"
import { ChatRequest, StagebeamOptions } from "../src/http/ChatRequest.ts"
import { protoField } from "../src/ProtoFields.ts"
import type { RequestPath } from "../src/RequestPath.ts"

/** Every path an error of the shared path may name: each field of the search request, the image, the judge. */
const paths: ReadonlyArray<RequestPath> = [
  ...Object.keys(SearchRequest.fields)
    .filter((key) => key !== "sampling" && key !== "swires")
    .map((key) => [key] as unknown as RequestPath),
  ...Object.keys(Sampling.fields).map((key) => ["sampling", key] as unknown as RequestPath),
  ...Object.keys(SwiresOptions.fields).map((key) => ["swires", key] as unknown as RequestPath),
  ["image"],
  ["image", "data"],
  ["image", "url"],
  ["image", "mimeType"],
  ["judge", "kind"],
  ["judge", "name"],
]

interface Field {
  readonly name: string
  readonly type: string
  readonly typeName: string
}
const definition = loadReasonerPackageDefinition() as unknown as Record<
  string,
  { readonly type?: { readonly field: ReadonlyArray<Field> } }
>

/** Whether a dotted proto path (snake_case) is a field of ReasonRequest, message by message. */
const inProto = (path: string): boolean => {
  let message = "ReasonRequest"
  for (const segment of path.split(".")) {
    const field = definition[`stagebeam.v1.${message}`]?.type?.field.find((f) => snakeCase(f.name) === segment)
    if (field === undefined) return false
    message = field.typeName
  }
  return true
}

/** Whether a chat request's param names a field of the body the HTTP door decodes. */
const inChatRequest = (param: string): boolean => {
  if (param.startsWith("messages[")) return true
  const [head, rest] = param.split(/\.(.*)/s)
  if (head === "stagebeam") return rest !== undefined && rest in StagebeamOptions.fields
  return head !== undefined && rest === undefined && head in ChatRequest.fields
}

describe("each door spells every request path as one of its own fields", () => {
  it("gRPC: a field of ReasonRequest (the deadline is the call's own)", () => {
    for (const path of paths) {
      const field = protoField(path)
      if (field === "deadline") continue
      // top_k: the search's own knob, which the proto does not offer (the reference preset sets it).
      if (path[0] === "sampling" && path[1] === "topK") continue
      assert.isTrue(inProto(field), `${path.join(".")} → ${field}`)
    }
  })

  it("HTTP: a field of the chat request, where this request put it", () => {
    const where = { ...FIRST_MESSAGE, question: "messages[1].content", image: "messages[1].content[0].image_url.url" }
    for (const path of paths) {
      // Not offered over HTTP: SWIRES's knobs, top_k.
      if (path[0] === "swires" || (path[0] === "sampling" && path[1] === "topK")) continue
      const param = chatField(path, where)
      assert.isTrue(inChatRequest(param), `${path.join(".")} → ${param}`)
    }
    assert.strictEqual(chatField(["question"], where), "messages[1].content")
    assert.strictEqual(chatField(["image", "mimeType"], where), where.image)
    assert.strictEqual(
      chatField(["sampling", "maxTokens"], { ...where, maxTokens: "max_completion_tokens" }),
      "max_completion_tokens",
    )
    assert.strictEqual(chatField(["seed"], { ...where, seed: "stagebeam.seed" }), "stagebeam.seed")
    // A field only one door has comes spelled already.
    assert.strictEqual(chatField("messages[0].role", where), "messages[0].role")
    assert.strictEqual(protoField("search.reasoning_check_mode"), "search.reasoning_check_mode")
  })
})
