// Rendering the chat messages the way Llama 3.2 Vision's chat template does, validating them as vLLM would
// (image count, image data, template rules), and counting tokens with the real tokenizer.
import { type ApiError, badRequest } from "./errors.ts"
import { type ImageSize, imageSize } from "./images.ts"
import { hash32 } from "./random.ts"
import type { ChatMessage, ChatRequest } from "./request.ts"
import { encode, specialTokenIds } from "./tokens.ts"

export interface RenderedPrompt {
  /** Decoder prompt token ids (one <|image|> per image). */
  readonly tokenIds: ReadonlyArray<number>
  readonly images: number
  /** Each image's size, where its header says (undefined: an http(s) URL, or a header without one). */
  readonly imageSizes: ReadonlyArray<ImageSize | undefined>
  /** Stable identity of the images, folded into the prefix-cache hashes so different images never collide. */
  readonly imageKey: string
  /** Text of the last user turn (the question or a judge prompt). */
  readonly userText: string
  /** Text of the first user turn that carries the question. */
  readonly questionText: string
  /** The partial assistant message being continued ("" when starting a new answer). */
  readonly assistantPrefix: string
}

const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/
const imageMagic: ReadonlyArray<ReadonlyArray<number>> = [
  [0x89, 0x50, 0x4e, 0x47], // PNG
  [0xff, 0xd8, 0xff], // JPEG
  [0x47, 0x49, 0x46, 0x38], // GIF
  [0x52, 0x49, 0x46, 0x46], // RIFF (WebP)
  [0x42, 0x4d], // BMP
]

const checkImageUrl = (url: string): ApiError | { readonly size: ImageSize | undefined } => {
  if (/^https?:\/\//.test(url)) return { size: undefined } // fetched before rendering (imageUrls.ts)
  const m = /^data:([^;,]*)(;base64)?,([\s\S]*)$/.exec(url)
  if (m === null) return badRequest("Invalid `image_url`: expected an http(s) URL or a data URL.")
  if (m[2] === undefined) return badRequest("Invalid `image_url`: only base64-encoded data URLs are supported.")
  const payload = m[3]!.replace(/\s/g, "")
  if (payload.length === 0 || payload.length % 4 === 1 || !base64Pattern.test(payload))
    return badRequest("Failed to load image from data URL: Incorrect padding or invalid base64-encoded string.")
  const bytes = Buffer.from(payload, "base64")
  if (!imageMagic.some((magic) => magic.every((b, i) => bytes[i] === b)))
    return badRequest("Failed to load image from data URL: cannot identify image file.")
  return { size: imageSize(bytes) }
}

const partsOf = (m: ChatMessage) =>
  m.content === undefined || m.content === null
    ? []
    : typeof m.content === "string"
      ? [{ type: "text", text: m.content }]
      : m.content

const header = (role: string) => [128006, ...encode(role), 128007, ...encode("\n\n")]

/**
 * `continuation`: the server honours continue_final_message / add_generation_prompt (vLLM, SGLang). Without it (most
 * hosted APIs) a trailing assistant message is one more finished turn and the model starts a new answer.
 */
export const renderPrompt = (
  request: ChatRequest,
  maxImages: number,
  continuation = true,
): { readonly ok: RenderedPrompt } | { readonly error: ApiError } => {
  const messages = request.messages
  if (messages.length === 0) return { error: badRequest("messages must contain at least one message.") }
  const continueFinal = continuation && request.continue_final_message === true
  const addGeneration = continuation ? (request.add_generation_prompt ?? true) : true
  if (continueFinal && request.add_generation_prompt === true)
    return { error: badRequest("Cannot set both `continue_final_message` and `add_generation_prompt` to True.") }
  const last = messages[messages.length - 1]!
  if (continueFinal && last.role !== "assistant")
    return { error: badRequest("continue_final_message is set but the final message is not an assistant message.") }
  const ids: Array<number> = [specialTokenIds.beginOfText]
  let images = 0
  const imageSizes: Array<ImageSize | undefined> = []
  const imageKeys: Array<string> = []
  let userText = ""
  let questionText = ""
  let hasSystem = false
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!
    if (!["system", "user", "assistant", "tool"].includes(m.role))
      return { error: badRequest(`Unknown role: ${m.role}`, "messages") }
    if (m.role === "system") hasSystem = true
    ids.push(...header(m.role))
    let text = ""
    for (const part of partsOf(m)) {
      if (part.type === "text") {
        text += part.text ?? ""
        ids.push(...encode(part.text ?? ""))
      } else if (part.type === "image_url") {
        const url = typeof part.image_url === "string" ? part.image_url : part.image_url?.url
        if (url === undefined) return { error: badRequest("image_url part without a url.", "messages") }
        const checked = checkImageUrl(url)
        if (!("size" in checked)) return { error: checked }
        images++
        imageSizes.push(checked.size)
        imageKeys.push(String(hash32(url)))
        ids.push(specialTokenIds.image)
      } else return { error: badRequest(`Unsupported content part type: ${part.type}`, "messages") }
    }
    if (m.role === "user") {
      userText = text
      if (questionText === "") questionText = text
    }
    const continued = continueFinal && i === messages.length - 1
    if (!continued) ids.push(specialTokenIds.endOfTurn)
  }
  if (images > maxImages)
    return {
      error: badRequest(`At most ${maxImages} image(s) may be provided in one request. You provided ${images}.`),
    }
  if (images > 0 && hasSystem)
    return { error: badRequest("Prompting with images is incompatible with system messages.") }
  if (!continueFinal && addGeneration) ids.push(...header("assistant"))
  const assistantPrefix = continueFinal
    ? partsOf(last)
        .map((p) => p.text ?? "")
        .join("")
    : ""
  return {
    ok: { tokenIds: ids, images, imageSizes, imageKey: imageKeys.join(","), userText, questionText, assistantPrefix },
  }
}

/** Chained hashes of each full block of the prompt (the image identity is folded into the first). */
export const blockHashes = (prompt: RenderedPrompt, blockSize: number): Array<number> => {
  const hashes: Array<number> = []
  let h = hash32(`img:${prompt.imageKey}`)
  for (let start = 0; start + blockSize <= prompt.tokenIds.length; start += blockSize) {
    h = hash32(`${h}:${prompt.tokenIds.slice(start, start + blockSize).join(",")}`)
    hashes.push(h)
  }
  return hashes
}
