import { spawn } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { continueAnswer } from "../src/content/cot.ts"
import { judgePair, type PairwisePrompt, parsePairwisePrompt, perceivedMerit } from "../src/content/judge.ts"
import { configureContentModel } from "../src/content/model.ts"
import { look, stageNames } from "../src/content/quality.ts"
import { parseQuestion } from "../src/content/question.ts"
import { truthFor } from "../src/content/truth.ts"
import { isConclusionCorrect, syntheticQuestions } from "../src/index.ts"
import { makeRng } from "../src/random.ts"

const stageCandidate = (
  q: ReturnType<typeof parseQuestion>,
  prefix: string,
  stage: string,
  key: string,
  greedy = false,
) => {
  const text = continueAnswer(q, true, prefix, makeRng(key), greedy).text
  return text.slice(0, text.indexOf(`</${stage}>`) + stage.length + 3)
}

const pairPrompt = (q: ReturnType<typeof parseQuestion>, response1: string, response2: string): PairwisePrompt => ({
  question: q,
  response1,
  response2,
  criterion: "summary",
  hint: undefined,
})

describe("content model", () => {
  const items = syntheticQuestions(300, 11)

  it("the synthetic set is deterministic and its answers are the answer key's for the options' texts", () => {
    assert.deepStrictEqual(syntheticQuestions(5, 3), syntheticQuestions(5, 3))
    for (const item of items.slice(0, 20)) {
      assert.strictEqual(truthFor(parseQuestion(item.question).options), item.answer)
      assert.match(item.question, /\nA\. .+\nB\. .+\nC\. .+\nD\. .+$/)
    }
  })

  it("a harder set (difficultyShift > 0) is answered less often", () => {
    const rate = (shift: number) => {
      const set = syntheticQuestions(300, 5, { difficultyShift: shift })
      const right = set.filter((item) =>
        isConclusionCorrect(
          item.question,
          continueAnswer(parseQuestion(item.question), true, "", makeRng(item.id), true).text,
        ),
      )
      return right.length / set.length
    }
    assert.isAbove(rate(-0.5), rate(0.5) + 0.15)
  })

  it("better-looking stages lead to correct answers more often: choosing by look (no answer key) beats one sample", () => {
    let single = 0
    let byLook = 0
    for (const item of items) {
      const q = parseQuestion(item.question)
      if (isConclusionCorrect(item.question, continueAnswer(q, true, "", makeRng(`one:${item.id}`)).text)) single++
      let prefix = ""
      for (const stage of stageNames) {
        const candidates = [0, 1, 2, 3].map((i) => stageCandidate(q, prefix, stage, `${item.id}:${stage}:${i}`))
        prefix += `${candidates.reduce((a, b) => (look(a) >= look(b) ? a : b))}\n\n`
      }
      if (isConclusionCorrect(item.question, prefix)) byLook++
    }
    assert.isAbove(single / items.length, 0.4)
    assert.isBelow(single / items.length, 0.75)
    assert.isAbove(byLook / items.length, single / items.length + 0.03)
  })

  it("the fixed-accuracy judge prefers the text of higher perceived merit with its accuracy and position bias", () => {
    const q = parseQuestion(items[0]!.question)
    const pairs = Array.from({ length: 400 }, (_, i) => {
      const a = stageCandidate(q, "", "SUMMARY", `a${i}`)
      const b = stageCandidate(q, "", "SUMMARY", `b${i}`)
      return { a, b, better: perceivedMerit(a, q, undefined) >= perceivedMerit(b, q, undefined) ? 1 : 2 }
    }).filter((p) => p.a !== p.b)
    const rate = (accuracy: number, positionBias: number, pick: (p: (typeof pairs)[number], c: 1 | 2) => boolean) => {
      const rng = makeRng(`judge:${accuracy}:${positionBias}`)
      const hits = pairs.filter((p) =>
        pick(p, judgePair(pairPrompt(q, p.a, p.b), { accuracy, positionBias }, rng).choice),
      )
      return hits.length / pairs.length
    }
    assert.closeTo(
      rate(0.8, 0, (p, c) => c === p.better),
      0.8,
      0.07,
    )
    assert.closeTo(
      rate(1, 0, (p, c) => c === p.better),
      1,
      1e-9,
    )
    // Bias 0.5 toward response 1: half the verdicts say 1 regardless, the rest follow merit.
    assert.isAbove(
      rate(0.8, 0.5, (_, c) => c === 1),
      0.65,
    )
    assert.isAbove(
      rate(0.8, -0.5, (_, c) => c === 2),
      0.65,
    )
  })

  it("a verdict without a rationale is less often right than one with it, by the rationale gap", () => {
    const q = parseQuestion(items[2]!.question)
    const pairs = Array.from({ length: 600 }, (_, i) => [
      stageCandidate(q, "", "SUMMARY", `c${i}`),
      stageCandidate(q, "", "SUMMARY", `d${i}`),
    ]).filter(([a, b]) => a !== b)
    const agreement = (rationale: boolean, gap: number) => {
      const previous = configureContentModel({ rationaleGap: gap })
      try {
        const rng = makeRng("gap")
        return pairs.filter(([a, b]) => {
          const verdict = judgePair(pairPrompt(q, a!, b!), { accuracy: 0.8, positionBias: 0, noise: 0 }, rng, rationale)
          return verdict.choice === (look(a!) >= look(b!) ? 1 : 2)
        }).length
      } finally {
        configureContentModel(previous)
      }
    }
    assert.strictEqual(agreement(false, 0) > 0, true)
    assert.isAbove(agreement(true, 0.5), agreement(false, 0.5) + pairs.length * 0.02)
  })

  it("a text's look is recomputed from its text alone: tags and whitespace do not change it", () => {
    const q = parseQuestion(items[1]!.question)
    const text = stageCandidate(q, "", "SUMMARY", "x")
    const inner = text.replace(/<\/?SUMMARY>/g, "")
    assert.strictEqual(look(text), look(`  ${inner.replace(/ /g, "  ")}\n`))
  })
})

describe("CLI", () => {
  it("prints one line when listening", async () => {
    const child = spawn(
      process.execPath,
      ["bin/vllm-sim.js", "--port", "0", "--speed", "50", "--profile", "tiny-test"],
      {
        cwd: `${import.meta.dirname}/..`,
      },
    )
    try {
      const line = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no listening line")), 15_000)
        child.stdout.on("data", (d: Buffer) => {
          clearTimeout(timer)
          resolve(d.toString())
        })
      })
      assert.match(
        line,
        /^vllm-sim listening on http:\/\/127\.0\.0\.1:\d+ \(profile tiny-test, behaviour vllm-0.10, speed 50\)/,
      )
      const url = /http:\/\/[\d.:]+/.exec(line)![0]
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })
      assert.strictEqual(res.status, 200)
    } finally {
      child.kill("SIGTERM")
    }
  })
})

describe("reading a judge prompt", () => {
  it("the recall paragraph after the responses (REASONING's begins 'Begin by thoroughly reviewing') is not part of response 2", () => {
    const prompt = [
      "Now you act as a judge, helping me determine which of the two texts I provide better explains the reasoning process to solve the question, and has fewer errors.",
      "",
      "Question: How many? A. one B. two",
      "Response 1: It is one.",
      "Response 2: It is two.",
      "",
      "Begin by thoroughly reviewing the question, followed by an in-depth examination of each answer individually, noting any differences. Please strictly follow the following format requirements when outputting.",
      "",
      'Output format: "Since [reason], I choose response [1/2]."',
    ].join("\n")
    assert.strictEqual(parsePairwisePrompt(prompt)?.response2, "It is two.")
  })
})
