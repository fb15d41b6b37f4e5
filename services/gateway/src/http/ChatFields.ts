import { snakeCase } from "@stagebeam/proto"
import type { FieldRef } from "../RequestPath.ts"

/**
 * Where the fields that move in a chat request are in one request, as OpenAI's `param` writes them: the question
 * is the text of the one user message, the image one of its parts, the token limit either of OpenAI's two names,
 * the seed OpenAI's or the search's own. Read from the body once it is decoded; immutable.
 */
export interface ChatFields {
  readonly question: string
  readonly image: string | undefined
  readonly maxTokens: "max_tokens" | "max_completion_tokens"
  readonly seed: "seed" | "stagebeam.seed"
}

/** Before a body says otherwise: the first message, OpenAI's own names. */
export const FIRST_MESSAGE: ChatFields = {
  question: "messages[0].content",
  image: undefined,
  maxTokens: "max_tokens",
  seed: "seed",
}

/**
 * A field as this chat request spells it: the HTTP door's one rendering of a `RequestPath`. The search's options
 * are `stagebeam.<snake_case>`; sampling is OpenAI's own fields; the rest are named here.
 */
export const chatField = (field: FieldRef, where: ChatFields): string => {
  if (typeof field === "string") return field
  const segments: ReadonlyArray<string> = field
  const [head, leaf] = segments
  if (head === undefined) return "body"
  const dotted = segments.map(snakeCase).join(".")
  switch (head) {
    case "question":
      return where.question
    case "image":
    case "imageUrl":
      return where.image ?? dotted
    case "judge":
      return leaf === "kind" ? "stagebeam.judge" : "stagebeam.judge_name"
    case "seed":
      return where.seed
    case "wording":
      return "stagebeam.prompt_wording"
    case "sampling":
      return leaf === "maxTokens" ? where.maxTokens : leaf === undefined ? "body" : snakeCase(leaf)
    default:
      return `stagebeam.${dotted}`
  }
}
