// The REFERENCE preset against the reference code (PKU-YuanGroup/LLaVA-CoT@081cc3f inference/demo/simple_inference.py):
// HF generate's top_k 50, each stage continued from the model's own tokens, and every deviation named.
import { assert, describe, it } from "@effect/vitest"
import { periodTokenIds } from "@stagebeam/cot"
import { Effect } from "effect"
import { pngImage, recordingProxy, startGateway, startSimulators } from "./harness.ts"

const QUESTION = "How many cups are on the table?\nA. 1\nB. 2\nC. 3\nD. 4"

interface ChatBody {
  readonly top_k?: number
  readonly continue_final_message?: boolean
  readonly messages: ReadonlyArray<{ readonly role: string; readonly content: unknown }>
}

describe("fidelity to the reference", () => {
  it.live(
    'REFERENCE sends top_k 50 on every call; each stage continues after the model\'s own ">\\n\\n" token',
    () =>
      Effect.gen(function* () {
        const servers = yield* startSimulators(1)
        const bodiesOf = (preset: "PRESET_REFERENCE" | "PRESET_DEFAULT") =>
          Effect.gen(function* () {
            const proxy = yield* recordingProxy(servers[0]!.url)
            const { client } = yield* startGateway({ pools: { generator: { endpoints: [proxy.url] } } })
            const image = yield* pngImage()
            yield* client.Reason({
              question: QUESTION,
              image: { data: image },
              search: { candidatesPerStage: 2, preset, seed: "7" },
            })
            return (
              proxy.seen
                .filter((request) => request.path === "/v1/chat/completions")
                .map((request) => JSON.parse(request.body.toString("utf8")) as ChatBody)
                // Not the probes of Probe.ts (priority's one-token "Say hello.", the choice field's "Pick one."),
                // which are no part of a search.
                .filter((body) => !/Say hello\.|Pick one\./.test(JSON.stringify(body.messages)))
            )
          }).pipe(Effect.scoped)

        const reference = yield* bodiesOf("PRESET_REFERENCE")
        assert.isAbove(reference.length, 4)
        const without = reference.filter((body) => body.top_k !== 50).map((body) => JSON.stringify(body).slice(-600))
        assert.deepStrictEqual(without, [], "generation, verdicts and pre-checks alike")
        const continued = reference.filter((body) => body.continue_final_message === true)
        assert.isAtLeast(continued.length, 3, "caption, reasoning and conclusion continue the answer")
        for (const body of continued) {
          const prefix = String(body.messages.at(-1)!.content)
          assert.match(prefix, /<\/(SUMMARY|CAPTION|REASONING)>\n\n$/, "the prefix ends as the model's tokens did")
          assert.notMatch(prefix, /\n\n\n/, "no doubled separator inside")
        }
        const byDefault = yield* bodiesOf("PRESET_DEFAULT")
        const generation = byDefault.filter(
          (body) => body.messages.some((m) => m.role === "assistant") || body.continue_final_message !== undefined,
        )
        assert.isTrue(
          generation.every((body) => body.continue_final_message !== true || body.top_k === undefined),
          "DEFAULT generation sends no top_k",
        )
      }),
    120_000,
  )

  it.live(
    "selection.deviations names every way a run differs from the reference's, and none for the reference's own",
    () =>
      Effect.gen(function* () {
        const image = yield* pngImage()
        const large = yield* pngImage(2000, 1500)
        const deviationsOf = (
          prescale: "mllama" | "off",
          search: Record<string, unknown>,
          judge?: string,
          data: Buffer = image,
        ) =>
          Effect.gen(function* () {
            const { client } = yield* startGateway({ images: { prescale } })
            const response = yield* client.Reason({
              question: QUESTION,
              image: { data },
              search: { preset: "PRESET_REFERENCE", candidatesPerStage: 2, seed: "3", ...search },
              ...(judge === undefined ? {} : { judge: { name: judge } }),
            })
            return response.selection!.deviations
          }).pipe(Effect.scoped)

        assert.deepStrictEqual(yield* deviationsOf("off", {}), [], "the reference's run, exactly")
        assert.deepStrictEqual(yield* deviationsOf("mllama", {}), [], "an image the processor keeps is sent as it is")
        assert.deepStrictEqual(yield* deviationsOf("mllama", {}, undefined, large), ["images.prescale"])
        assert.deepStrictEqual(yield* deviationsOf("off", { stragglers: true }), ["stragglers"])
        assert.deepStrictEqual(yield* deviationsOf("off", {}, "reward"), ["judge.name"])
        assert.deepStrictEqual(yield* deviationsOf("off", { sampling: { temperature: 0.3 } }), [
          "sampling",
          "judge.sampling",
        ])
        assert.deepStrictEqual(yield* deviationsOf("off", { tournament: "TOURNAMENT_KNOCKOUT" }), ["tournament"])
      }),
    120_000,
  )

  it.live(
    "sentence-level search stops where the reference does: after a token that ends in a period",
    () =>
      Effect.gen(function* () {
        const servers = yield* startSimulators(1)
        const proxy = yield* recordingProxy(servers[0]!.url)
        const { client } = yield* startGateway({ pools: { generator: { endpoints: [proxy.url] } } })
        const response = yield* client.Reason({
          question: QUESTION,
          image: { data: yield* pngImage() },
          search: { strategy: "STRATEGY_SENTENCE_BEAM", candidatesPerStage: 2, seed: "5" },
          includeTrace: true,
        })
        const sentenceCalls = proxy.seen
          .filter((request) => request.path === "/v1/chat/completions")
          .map(
            (request) =>
              JSON.parse(request.body.toString("utf8")) as ChatBody & {
                stop?: Array<string>
                stop_token_ids?: Array<number>
              },
          )
          .filter((body) => body.stop_token_ids !== undefined)
        assert.isAbove(sentenceCalls.length, 2)
        for (const body of sentenceCalls) {
          // No "." stop string (vLLM would stop inside ".\n\n"): the period tokens instead, and the answer's end.
          assert.deepStrictEqual(body.stop, ["</CONCLUSION>"])
          assert.deepStrictEqual(body.stop_token_ids, [...periodTokenIds()])
        }
        const sentences = response.trace.flatMap((event) =>
          event.stepChosen?.kind === "SENTENCE" ? [event.stepChosen.text] : [],
        )
        assert.isAbove(sentences.length, 2, "one sentence per step")
        for (const sentence of sentences.slice(0, -1)) assert.match(sentence, /\.$/, "each ends with its period token")
        assert.notStrictEqual(response.conclusion, "")
      }),
    120_000,
  )
})
