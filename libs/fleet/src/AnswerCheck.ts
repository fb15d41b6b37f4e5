import type { ChatRequest, WireCompletion } from "./ChatCompletion.ts"

/**
 * A server's answer is untrusted input (issue #22): it must be a chat completion in the shape of `WireCompletion`,
 * and fit the request it answers — no more choices than `n`, each index once, token counts whole, not negative and
 * within what the request allowed (5,000 choices for n=4, or 1e308 tokens, would defeat the search's budget).
 *
 * Checked by hand rather than by a Schema decode: it runs on every upstream call, and the decode (which copies the
 * whole answer) was a measurable share of the gateway's CPU per call (bench/gateway-cpu.ts).
 */

/** What the request allows a sequence to generate when it names no max_tokens: a generous context. */
const MAX_SEQUENCE_TOKENS = 1 << 20
/**
 * Tokens a sequence may report beyond max_tokens: servers differ in whether they count an end or stop token, and
 * the check is there for absurd counts (negative, 1e308) that would defeat a token budget, not for off-by-a-few.
 */
const SEQUENCE_TOKEN_LEEWAY = 16
/** A prompt longer than any context a served model has (Llama 3.2 Vision: 128 k). */
export const MAX_PROMPT_TOKENS = 1 << 22

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

const optional = (value: unknown, check: (value: unknown) => boolean) => value === undefined || check(value)
const nullable = (value: unknown, check: (value: unknown) => boolean) => value === null || check(value)
const isString = (value: unknown): value is string => typeof value === "string"
const isNumber = (value: unknown): value is number => typeof value === "number"
const isStopMatch = (value: unknown) => optional(value, (v) => nullable(v, (w) => isString(w) || isNumber(w)))

const isTokenLogprob = (value: unknown): boolean =>
  isObject(value) &&
  isString(value.token) &&
  isNumber(value.logprob) &&
  optional(value.top_logprobs, (top) =>
    nullable(
      top,
      (list) =>
        Array.isArray(list) &&
        list.every(
          (alternative) => isObject(alternative) && isString(alternative.token) && isNumber(alternative.logprob),
        ),
    ),
  )

/** Why `choice` is not a chat choice, or undefined. */
const choiceProblem = (choice: unknown, at: number): string | undefined => {
  if (!isObject(choice)) return `choices[${at}] is not an object`
  if (!isNumber(choice.index)) return `choices[${at}].index is not a number`
  if (!isObject(choice.message)) return `choices[${at}].message is not an object`
  if (!optional(choice.message.content, (content) => nullable(content, isString)))
    return `choices[${at}].message.content is not a string`
  if (!nullable(choice.finish_reason, isString)) return `choices[${at}].finish_reason is not a string`
  if (!isStopMatch(choice.stop_reason) || !isStopMatch(choice.matched_stop))
    return `choices[${at}].stop_reason is not a string or token id`
  const logprobs = choice.logprobs
  if (
    !optional(logprobs, (value) =>
      nullable(
        value,
        (inner) =>
          isObject(inner) &&
          optional(inner.content, (content) =>
            nullable(content, (list) => Array.isArray(list) && list.every(isTokenLogprob)),
          ),
      ),
    )
  )
    return `choices[${at}].logprobs is not a list of token logprobs`
  return undefined
}

/** A value from the answer as an error shows it: a few characters, whatever the server sent. */
const shown = (value: unknown) => String(value).slice(0, 40)

const isCount = (value: unknown, most: number): value is number =>
  isNumber(value) && Number.isSafeInteger(value) && value >= 0 && value <= most

/** The answer as a completion, or what is wrong with it (said so that an operator can find it in the server's answer). */
export const checkAnswer = (
  answer: unknown,
  request: Pick<ChatRequest, "n" | "max_tokens">,
): { readonly completion: WireCompletion } | { readonly problem: string } => {
  if (!isObject(answer)) return { problem: "the answer is not a chat completion: not a JSON object" }
  if (!isString(answer.id) || !isString(answer.model) || !Array.isArray(answer.choices))
    return { problem: "the answer is not a chat completion: it lacks an id, a model or a list of choices" }
  const n = request.n ?? 1
  const choices: ReadonlyArray<unknown> = answer.choices
  if (choices.length > n) return { problem: `the answer has ${choices.length} choices where ${n} were asked for` }
  const seen = new Set<number>()
  for (let at = 0; at < choices.length; at++) {
    const problem = choiceProblem(choices[at], at)
    if (problem !== undefined) return { problem: `the answer is not a chat completion: ${problem}` }
    const index = (choices[at] as { readonly index: number }).index
    if (!Number.isInteger(index) || index < 0 || index >= n || seen.has(index))
      return { problem: `the answer's choice index ${shown(index)} is not one of the ${n} asked for, once each` }
    seen.add(index)
  }
  const usage = answer.usage
  if (usage !== undefined && usage !== null) {
    if (!isObject(usage)) return { problem: "the answer's usage is not an object" }
    const most = n * ((request.max_tokens ?? MAX_SEQUENCE_TOKENS) + SEQUENCE_TOKEN_LEEWAY)
    if (!isCount(usage.completion_tokens, most))
      return {
        problem: `the answer's completion_tokens (${shown(usage.completion_tokens)}) is not a count within 0..${most}`,
      }
    if (!isCount(usage.prompt_tokens, MAX_PROMPT_TOKENS))
      return {
        problem: `the answer's prompt_tokens (${shown(usage.prompt_tokens)}) is not a count within 0..${MAX_PROMPT_TOKENS}`,
      }
  }
  return { completion: answer as unknown as WireCompletion }
}
