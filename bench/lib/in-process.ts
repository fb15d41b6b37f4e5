// The search (libs/search's runSearch, the real strategies and selection rules) over the simulator's content model
// called in process: no HTTP, no gateway, no token accounting, no latency. The generator continues a prefix as a
// simulated server would (continueAnswer, cut at the earliest stop string or stop token, which is kept); the judge is asked the
// prompts libs/judge sends (judgePrompt, correctnessPrompt) and read as libs/judge reads them (parseVerdict; a CHOICE
// verdict is the label with the higher probability, its margin the log-odds, as readChoice does from logprobs);
// a reward model scores as the simulator's /pooling does. Accuracy figures match the full stack's within sampling
// noise (bench/calibrate.ts checks two rows through the stack); it is ~50× cheaper, so a fit can afford it.
import { correctnessPrompt, judgePrompt, parseCorrectness, parseVerdict } from "@stagebeam/cot"
import {
  CandidateGenerator,
  decideVerdict,
  decodeSearchRequest,
  type GeneratedText,
  Judge,
  type MatchInput,
  runSearch,
  type SearchRequestInput,
  type Verdict,
} from "@stagebeam/search"
import {
  continueAnswer,
  judgePair,
  makeRng,
  parsePairwisePrompt,
  parsePrecheck,
  parseQuestion,
  precheck,
  rewardScore,
} from "@stagebeam/vllm-sim"
import { Effect, Layer } from "effect"
import llama3Tokenizer from "llama3-tokenizer-js"

const SERVER = "in-process"
const words = (text: string) => Math.max(1, text.split(/\s+/).length)

/**
 * The earliest stop, kept (the search's generator contract): a stop string, or the first token of `stopTokenIds`
 * (sentence-level search's period tokens), as the simulator's sampleOutput honours both.
 */
const cutAtStop = (text: string, stops: ReadonlyArray<string>, stopTokenIds?: ReadonlyArray<number>): string => {
  let end = text.length
  for (const stop of stops) {
    if (stop.length === 0) continue
    const index = text.indexOf(stop)
    if (index >= 0) end = Math.min(end, index + stop.length)
  }
  if (stopTokenIds !== undefined && stopTokenIds.length > 0) {
    const ids = llama3Tokenizer.encode(text, { bos: false, eos: false })
    const stopIds = new Set(stopTokenIds)
    const at = ids.findIndex((id) => stopIds.has(id))
    if (at >= 0) end = Math.min(end, llama3Tokenizer.decode(ids.slice(0, at + 1)).length)
  }
  return text.slice(0, end)
}

const generator = Layer.succeed(CandidateGenerator, {
  generate: (request, onSample) =>
    Effect.sync(() => {
      const question = parseQuestion(request.question)
      const greedy = request.sampling.temperature === 0
      const samples: Array<GeneratedText> = []
      for (let i = 0; i < request.n; i++) {
        const rng = makeRng(`${request.seed}\u0000${request.question}\u0000${request.prefix}\u0000${greedy ? 0 : i}`)
        const full = continueAnswer(question, request.imageUrl !== undefined, request.prefix, rng, greedy).text
        const text = cutAtStop(full, request.stop, request.stopTokenIds)
        const sample: GeneratedText = { text, finishReason: "stop", completionTokens: words(text) }
        samples.push(sample)
        onSample?.(i, sample)
      }
      return { samples, promptTokens: words(request.question) + words(request.prefix), server: SERVER }
    }),
})

const judgeSettings = { accuracy: 0.8, noise: "model" as const }

const askOnce = (match: MatchInput): Effect.Effect<Verdict> =>
  Effect.sync(() => {
    const mode = match.verdict ?? "FREE_TEXT"
    const prompt = judgePrompt(
      match.kind,
      { question: match.question, hint: match.hint, first: match.first, second: match.second },
      match.wording,
      mode,
    )
    const parsed = parsePairwisePrompt(prompt)
    const cost = { server: SERVER, promptTokens: words(prompt), completionTokens: 1, mode }
    if (parsed === undefined) {
      // A prompt the simulated judge cannot read (one response left out): it answers with no verdict.
      return { ...parseVerdict(""), raw: "", ...cost }
    }
    const verdict = judgePair(parsed, judgeSettings, makeRng(`${match.seed}\u0000${prompt}`), mode === "FREE_TEXT")
    if (mode === "CHOICE") {
      const p1 = verdict.choice === 1 ? verdict.probability : 1 - verdict.probability
      const margin = Math.abs(Math.log(p1 / (1 - p1)))
      return { winner: p1 >= 0.5 ? 0 : 1, explicit: p1 !== 0.5, margin, raw: String(verdict.choice), ...cost }
    }
    return { ...parseVerdict(verdict.text), raw: verdict.text, ...cost }
  })

const pairwiseJudge = Layer.succeed(Judge, {
  compare: (match) => decideVerdict(match, askOnce),
  checkReasoning: (input) =>
    Effect.sync(() => {
      const prompt = correctnessPrompt({ hint: input.hint, reasoning: input.reasoning }, input.wording)
      const reasoning = parsePrecheck(prompt) ?? input.reasoning
      const result = precheck(reasoning, undefined, judgeSettings, makeRng(`${input.seed}\u0000${prompt}`))
      return {
        ...parseCorrectness(result.verdict),
        raw: result.verdict,
        server: SERVER,
        promptTokens: words(prompt),
        completionTokens: 1,
      }
    }),
})

/** A reward model (the simulator's /pooling score) with this error. */
const rewardJudge = (noise: number) =>
  Layer.succeed(Judge, {
    score: (input) =>
      Effect.sync(() => ({
        scores: input.responses.map((response) => rewardScore(response, parseQuestion(input.question), noise)),
        server: SERVER,
        promptTokens: 0,
        completionTokens: 0,
      })),
  })

export type InProcessJudge = { readonly kind: "self" } | { readonly kind: "reward"; readonly noise: number }

/** One search in process; its conclusion. */
export const searchInProcess = (request: SearchRequestInput, judge: InProcessJudge = { kind: "self" }) =>
  decodeSearchRequest(request).pipe(
    Effect.flatMap(runSearch),
    Effect.map((result) => result.conclusion),
    Effect.provide(Layer.merge(generator, judge.kind === "self" ? pairwiseJudge : rewardJudge(judge.noise))),
  )
