import { spawn } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { continueAnswer } from "../src/content/cot.ts"
import { judgePair, parsePairwisePrompt } from "../src/content/judge.ts"
import { candidateQuality, stageNames } from "../src/content/quality.ts"
import { parseQuestion } from "../src/content/question.ts"
import { isConclusionCorrect, syntheticQuestions } from "../src/index.ts"
import { makeRng } from "../src/random.ts"

const stageCandidate = (q: ReturnType<typeof parseQuestion>, prefix: string, stage: string, key: string) => {
  const text = continueAnswer(q, true, prefix, makeRng(key)).text
  return text.slice(0, text.indexOf(`</${stage}>`) + stage.length + 3)
}

describe("content model", () => {
  const items = syntheticQuestions(300, 11)

  it("the synthetic set is deterministic and its answers are what any simulator reads from the text", () => {
    assert.deepStrictEqual(syntheticQuestions(5, 3), syntheticQuestions(5, 3))
    for (const item of items.slice(0, 20)) {
      assert.strictEqual(parseQuestion(item.question).truth, item.answer)
      assert.match(item.question, /\nA\. .+\nB\. .+\nC\. .+\nD\. .+$/)
    }
  })

  it("a single sample is right 55-65% of the time; an oracle choosing the best of 4 per stage gets clearly more", () => {
    let single = 0
    let oracle = 0
    for (const item of items) {
      const q = parseQuestion(item.question)
      if (isConclusionCorrect(item.question, continueAnswer(q, true, "", makeRng(`one:${item.id}`)).text)) single++
      let prefix = ""
      for (const stage of stageNames) {
        const candidates = [0, 1, 2, 3].map((i) => stageCandidate(q, prefix, stage, `${item.id}:${stage}:${i}`))
        prefix += `${candidates.reduce((a, b) => (candidateQuality(a, q) >= candidateQuality(b, q) ? a : b))}\n\n`
      }
      if (isConclusionCorrect(item.question, prefix)) oracle++
    }
    assert.isAtLeast(single / items.length, 0.5)
    assert.isAtMost(single / items.length, 0.7)
    assert.isAbove(oracle / items.length, single / items.length + 0.2)
  })

  it("the judge prefers the better candidate with the configured accuracy and position bias", () => {
    const q = parseQuestion(items[0]!.question)
    const pairs = Array.from({ length: 400 }, (_, i) => {
      const a = stageCandidate(q, "", "SUMMARY", `a${i}`)
      const b = stageCandidate(q, "", "SUMMARY", `b${i}`)
      return { a, b, better: candidateQuality(a, q) >= candidateQuality(b, q) ? 1 : 2 }
    }).filter((p) => p.a !== p.b)
    const rate = (accuracy: number, positionBias: number, pick: (p: (typeof pairs)[number], c: 1 | 2) => boolean) => {
      const rng = makeRng(`judge:${accuracy}:${positionBias}`)
      const hits = pairs.filter((p) =>
        pick(
          p,
          judgePair(
            { question: q, response1: p.a, response2: p.b, criterion: "summary" },
            { accuracy, positionBias },
            rng,
          ).choice,
        ),
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
    // Bias 0.5 toward response 1: half the verdicts say 1 regardless, the rest follow quality.
    assert.isAbove(
      rate(0.8, 0.5, (_, c) => c === 1),
      0.65,
    )
    assert.isAbove(
      rate(0.8, -0.5, (_, c) => c === 2),
      0.65,
    )
  })

  it("quality is recomputed from text alone: tags and whitespace do not change it", () => {
    const q = parseQuestion(items[1]!.question)
    const text = stageCandidate(q, "", "SUMMARY", "x")
    const inner = text.replace(/<\/?SUMMARY>/g, "")
    assert.strictEqual(candidateQuality(text, q), candidateQuality(`  ${inner.replace(/ /g, "  ")}\n`, q))
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
