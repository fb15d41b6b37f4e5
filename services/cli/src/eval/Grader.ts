import { readFileSync } from "node:fs"
import { Data, Effect } from "effect"
import { CliFailure, EXIT } from "../ExitCodes.ts"
import { FAIL_MSG } from "./Vlmeval.ts"

/** The LLM that VLMEvalKit's scoring asks (answer extraction, MMVet grading): any OpenAI-compatible endpoint. */
export interface Grader {
  /** Where it is and what it is, for the report's provenance. */
  readonly url: string
  readonly model: string
  /**
   * One user turn of text, as VLMEvalKit's OpenAIWrapper sends it (vlmeval/api/gpt.py: no system prompt, the answer
   * stripped); FAIL_MSG when the call failed, as the wrapper answers after its own retries.
   */
  readonly generate: (
    prompt: string,
    options: { readonly temperature: number; readonly maxTokens: number },
  ) => Effect.Effect<string>
  /** Calls that failed (their answer was FAIL_MSG): shown in the report. */
  readonly failures: () => number
}

class GraderCallFailed extends Data.TaggedError("GraderCallFailed")<{ readonly message: string }> {}

/** The key: a file's first line (--grader-key-file) or $STAGEBEAM_GRADER_KEY; servers without --api-key take any. */
const keyOf = (keyFile: string | undefined) =>
  Effect.try({
    try: () =>
      keyFile === undefined
        ? (process.env.STAGEBEAM_GRADER_KEY ?? "none")
        : (readFileSync(keyFile, "utf8").split("\n")[0] ?? "").trim(),
    catch: () => new CliFailure({ message: `--grader-key-file: cannot read ${keyFile}`, exitCode: EXIT.invalidInput }),
  })

export const makeGrader = (options: {
  readonly url: string
  readonly model: string
  readonly keyFile: string | undefined
  /** Seconds each call may take. */
  readonly timeout: number
}): Effect.Effect<Grader, CliFailure> =>
  Effect.gen(function* () {
    const apiKey = yield* keyOf(options.keyFile)
    const baseURL = options.url.replace(/\/+$/, "").replace(/(\/v1)?$/, "/v1")
    // Loaded only when a grader is asked for: the SDK is most of the CLI's start otherwise (bench/cli-start.ts).
    const { default: OpenAI } = yield* Effect.promise(() => import("openai"))
    // VLMEvalKit's wrapper retries a failed call itself (retry=5); the SDK's retries stand in for them.
    const client = new OpenAI({ baseURL, apiKey, timeout: options.timeout * 1000, maxRetries: 4 })
    let failed = 0
    const generate: Grader["generate"] = (prompt, { temperature, maxTokens }) =>
      Effect.tryPromise({
        try: (signal) =>
          client.chat.completions.create(
            {
              model: options.model,
              messages: [{ role: "user", content: [{ type: "text", text: prompt }] }],
              temperature,
              max_tokens: maxTokens,
              n: 1,
            },
            { signal },
          ),
        catch: (error) => new GraderCallFailed({ message: error instanceof Error ? error.message : String(error) }),
      }).pipe(
        Effect.map((completion) => (completion.choices[0]?.message.content ?? "").trim()),
        Effect.withSpan("eval.grader", { attributes: { model: options.model } }),
        Effect.catch((error) =>
          Effect.sync(() => {
            failed++
            return FAIL_MSG
          }).pipe(Effect.tap(() => Effect.logWarning(`grader ${options.url} failed: ${error.message}`))),
        ),
      )
    return { url: options.url, model: options.model, generate, failures: () => failed }
  })
