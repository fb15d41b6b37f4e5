// No simulated judge, pre-check or reward model reads the answer key: moving the key (contentModel.world) while the
// texts and the prompt stay the same changes none of their answers, over HTTP as a client sees them; the same move
// does change what the generator writes (it is the one reader of the key, with the grader).
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { afterAll, beforeAll } from "vitest"
import { continueAnswer } from "../src/content/cot.ts"
import { configureContentModel } from "../src/content/model.ts"
import { parseQuestion } from "../src/content/question.ts"
import { truthFor } from "../src/content/truth.ts"
import { type RunningSimulator, startSimulator, syntheticQuestions } from "../src/index.ts"
import { makeRng } from "../src/random.ts"
import { postChat, userTurn } from "./helpers.ts"

const WORLDS = ["world-a", "world-b"] as const

let generator: RunningSimulator
let reward: RunningSimulator

beforeAll(async () => {
  generator = await startSimulator({ speed: 1000 })
  reward = await startSimulator({ speed: 1000, task: "reward", model: "reward-model" })
})
afterAll(async () => {
  configureContentModel({ world: "stagebeam" })
  await Promise.all([generator.close(), reward.close()])
})

const questions = syntheticQuestions(12, 7).map((item) => item.question)

/** Whole answers and each stage of them, as a search would show a judge. */
const answersTo = (question: string) =>
  [0, 1].map((i) => continueAnswer(parseQuestion(question), true, "", makeRng(`${question}:${i}`)).text)

const stage = (text: string, name: string) => new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(text)?.[1] ?? ""

const pairwise = (question: string, criterion: string, first: string, second: string, hint?: string) =>
  [
    `Now you act as a judge, helping me determine which of the two texts I provide better ${criterion}.`,
    "",
    `Question: ${question}`,
    ...(hint === undefined ? [] : [`Hint about the Question: ${hint}`]),
    `Response 1: ${first}`,
    `Response 2: ${second}`,
    "",
    'Output format: "Since [reason], I choose response [1/2]."',
  ].join("\n")

const precheck = (caption: string, reasoning: string) =>
  [
    "Now you act as a judge, helping me determine whether the reasoning process in the given text is correct and accurate based on the given information.",
    "You should output 'correct' if you don't find any errors in the reasoning process, and 'incorrect' if you find any errors.",
    "",
    `Given Information: ${caption}`,
    "",
    `Reasoning Process: ${reasoning}`,
  ].join("\n")

const rating = (question: string, response: string) =>
  [
    "Now you act as a judge, helping me rate how well the text I provide answers the question.",
    "",
    `Question: ${question}`,
    `Response: ${response}`,
    "",
    "Output format: a single digit from 1 (poor) to 9 (excellent), and nothing else.",
  ].join("\n")

/** Every judging request a search makes, for each question: verdicts free and constrained, pre-checks, ratings. */
const judgingBodies = () =>
  questions.flatMap((question, q) => {
    const [a, b] = answersTo(question) as [string, string]
    const prompts = [
      pairwise(question, "outlines the approach", stage(a, "SUMMARY"), stage(b, "SUMMARY")),
      pairwise(question, "describes the image", stage(a, "CAPTION"), stage(b, "CAPTION")),
      pairwise(question, "reasons", stage(a, "REASONING"), stage(b, "REASONING"), stage(a, "CAPTION")),
      pairwise(
        question,
        "concludes",
        stage(a, "CONCLUSION"),
        stage(b, "CONCLUSION"),
        stage(a, "CAPTION") + stage(a, "REASONING"),
      ),
      pairwise(question, "answers the question", a, b),
      precheck(stage(a, "CAPTION"), stage(a, "REASONING")),
      rating(question, a),
    ]
    return prompts.flatMap((text, p) => [
      { messages: [userTurn(text)], seed: 100 * q + p, temperature: 0.6, top_p: 0.9, max_tokens: 128 },
      {
        messages: [userTurn(text)],
        seed: 100 * q + p,
        max_tokens: 1,
        guided_choice:
          p === 6 ? ["1", "2", "3", "4", "5", "6", "7", "8", "9"] : p === 5 ? ["correct", "incorrect"] : ["1", "2"],
        logprobs: true,
        top_logprobs: 5,
      },
    ])
  })

interface ChatAnswer {
  readonly choices: ReadonlyArray<{ readonly message: { readonly content: string }; readonly logprobs: unknown }>
}

/** The texts are written once (under the first key), then judged under each key. */
const answersIn = async (world: string, bodies: ReturnType<typeof judgingBodies>, responses: Array<string>) => {
  configureContentModel({ world })
  const chats = await Promise.all(
    bodies.map(async (body) => {
      const res = await postChat(generator.url, body)
      assert.strictEqual(res.status, 200)
      const answer = (await res.json()) as ChatAnswer
      return answer.choices.map((choice) => ({ content: choice.message.content, logprobs: choice.logprobs }))
    }),
  )
  const res = await fetch(`${reward.url}/pooling`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "reward-model", input: responses }),
    signal: AbortSignal.timeout(10_000),
  })
  assert.strictEqual(res.status, 200)
  const scores = ((await res.json()) as { data: ReadonlyArray<{ data: unknown }> }).data.map((item) => item.data)
  return { chats, scores }
}

describe("no simulated judge reads the answer key", () => {
  it("moving the answer key moves the correct options of most questions", () => {
    const keys = WORLDS.map((world) => {
      configureContentModel({ world })
      return questions.map((question) => truthFor(parseQuestion(question).options))
    })
    assert.isAtLeast(keys[0]!.filter((letter, i) => letter !== keys[1]![i]).length, questions.length / 2)
  })

  it("verdicts, pre-checks, ratings and reward scores are the same whatever the key (same texts, same prompts)", async () => {
    configureContentModel({ world: WORLDS[0] })
    const bodies = judgingBodies()
    const responses = questions.flatMap(answersTo)
    const one = await answersIn(WORLDS[0], bodies, responses)
    const two = await answersIn(WORLDS[1], bodies, responses)
    assert.isAbove(one.chats.length, 100)
    assert.deepStrictEqual(two.chats, one.chats)
    assert.deepStrictEqual(two.scores, one.scores)
  })

  it("the generator does read it: the same greedy prompt answers differently under another key", async () => {
    const conclusions = async (world: string) => {
      configureContentModel({ world })
      return Promise.all(
        questions.map(async (question) => {
          const res = await postChat(generator.url, {
            messages: [userTurn(question)],
            temperature: 0,
            max_tokens: 2048,
          })
          return ((await res.json()) as ChatAnswer).choices[0]!.message.content
        }),
      )
    }
    const [one, two] = [await conclusions(WORLDS[0]), await conclusions(WORLDS[1])]
    assert.isAbove(one.filter((text, i) => text !== two[i]).length, 0)
  })

  it("only the generator (cot.ts) and the synthetic set import the answer key among the simulator's sources", () => {
    const src = join(import.meta.dirname, "..", "src")
    const files = readdirSync(src, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".ts"))
    const readers = files.filter((file) =>
      /from "\.\/(content\/)?truth\.ts"/.test(readFileSync(join(src, file), "utf8")),
    )
    assert.deepStrictEqual(readers.sort(), ["content/cot.ts", "content/synthetic.ts", "index.ts"])
  })
})
