/** OpenAI-compatible chat message parts, the subset the model was trained with (one image, then text). */
export interface TextPart {
  readonly type: "text"
  readonly text: string
}

export interface ImagePart {
  readonly type: "image_url"
  readonly image_url: { readonly url: string }
}

export interface UserMessage {
  readonly role: "user"
  readonly content: ReadonlyArray<TextPart | ImagePart>
}

export interface AssistantMessage {
  readonly role: "assistant"
  readonly content: string
}

export type ChatMessage = UserMessage | AssistantMessage

export interface UserTurnInput {
  readonly question: string
  /** An http(s) or data: URL; undefined for a text-only question. */
  readonly imageUrl?: string | undefined
}

/**
 * The one user turn the model was trained on: the image part first (when there is one), then the question.
 * No system prompt: the Llama-3.2-Vision chat template refuses a system message together with an image.
 */
export const userTurn = (input: UserTurnInput): UserMessage => ({
  role: "user",
  content:
    input.imageUrl === undefined
      ? [{ type: "text", text: input.question }]
      : [
          { type: "image_url", image_url: { url: input.imageUrl } },
          { type: "text", text: input.question },
        ],
})

/**
 * Messages that make the server continue the chosen `prefix` of the answer. With a non-empty prefix the last
 * message is the partial assistant message; the caller must then send `continue_final_message: true` and
 * `add_generation_prompt: false` (see `continuationFlags`). With an empty prefix it is the plain user turn.
 */
export const continuationMessages = (
  question: string,
  imageUrl: string | undefined,
  prefix: string,
): ReadonlyArray<ChatMessage> =>
  prefix.length === 0
    ? [userTurn({ question, imageUrl })]
    : [userTurn({ question, imageUrl }), { role: "assistant", content: prefix }]

/** The vLLM chat-template flags that go with `continuationMessages(…, prefix)`. */
export const continuationFlags = (
  prefix: string,
): { readonly continue_final_message: boolean; readonly add_generation_prompt: boolean } =>
  prefix.length === 0
    ? { continue_final_message: false, add_generation_prompt: true }
    : { continue_final_message: true, add_generation_prompt: false }
