import { existsSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { GatewaySettings, serveGateway } from "@stagebeam/gateway"
import { Effect } from "effect"
import sharp from "sharp"
import { launchChromium, openPage, screenshot } from "./chromium.ts"

const gateway = serveGateway.pipe(Effect.provide(GatewaySettings.layerTest({ simulator: { servers: 2 } })))

const imageFile = Effect.promise(async () => {
  const path = join(mkdtempSync(join(tmpdir(), "stagebeam-page-")), "shape.png")
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="160" height="120"><rect width="160" height="120" fill="#e8eefc"/><circle cx="80" cy="60" r="36" fill="#3b6fd8"/></svg>`
  writeFileSync(path, await sharp(Buffer.from(svg)).png().toBuffer())
  return path
})

describe("the search page", () => {
  it.live(
    "runs a search and draws its tree live: stages, candidates, matches, the chosen path, time per server",
    () =>
      Effect.gen(function* () {
        const { httpUrl } = yield* gateway
        const browser = yield* launchChromium
        const { page, problems } = yield* openPage(browser)
        yield* Effect.promise(() => page.goto(httpUrl!))
        const image = yield* imageFile
        yield* Effect.promise(async () => {
          await page.setInputFiles("#image", image)
          await page.fill("#candidates", "4")
          await page.fill("#seed", "5")
          await page.click("#run")
          await page.waitForSelector("body[data-state=done]", { timeout: 30_000 })
        })
        const drawn = yield* Effect.promise(() =>
          page.evaluate(() => ({
            steps: [...document.querySelectorAll("#tree .step h3")].map((h) => h.textContent),
            candidates: document.querySelectorAll("#tree .candidate").length,
            chosen: document.querySelectorAll("#tree .candidate.chosen").length,
            matches: document.querySelectorAll("#tree .match").length,
            links: document.querySelectorAll("#links path").length,
            chosenLinks: document.querySelectorAll("#links path.chosen").length,
            servers: document.querySelectorAll("#servers tbody tr").length,
            bars: document.querySelectorAll("#servers .bar").length,
            conclusion: document.getElementById("conclusion")?.textContent ?? "",
            status: document.getElementById("status")?.textContent ?? "",
            cost: document.getElementById("cost")?.textContent ?? "",
            verdicts: [...document.querySelectorAll("#tree .match summary")].map(
              (summary) => summary.textContent ?? "",
            ),
            ticks: [...document.querySelectorAll("#servers tfoot .tick")].map((tick) => tick.textContent ?? ""),
            legend: document.querySelector(".legend")?.textContent ?? "",
            // Fits 1280 px: the last step's column is inside the tree's box, and nothing scrolls sideways.
            treeOverflow:
              document.getElementById("tree")!.scrollWidth - document.getElementById("tree-wrap")!.clientWidth,
            pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
          })),
        )
        assert.isAtMost(drawn.treeOverflow, 0, "the four steps fit 1280 px")
        // The pools are simulators (vllm-sim says so on its model cards): the page says so.
        assert.isTrue(yield* Effect.promise(() => page.isVisible("#simulated")), "the simulated badge")
        assert.isAtMost(drawn.pageOverflow, 0)
        for (const verdict of drawn.verdicts)
          assert.match(
            verdict,
            /response [12] preferred(, margin \d+\.\d)?|identical texts|failed the correctness check|named neither response|larger margin|seeded coin/,
          )
        assert.match(
          drawn.cost,
          /^Cost: \d+ calls, \d+ tokens \(\d+ generated\), \d+\.\d GPU slot-seconds · latency \d+\.\d× one greedy answer \(the chosen path alone: \d+\.\d s\)$/,
        )
        assert.isAtLeast(drawn.ticks.length, 3, "the timeline's axis")
        assert.strictEqual(drawn.ticks[0], "0 ms")
        assert.include(drawn.legend, "judge verdicts")
        assert.deepStrictEqual(
          drawn.steps.map((text) => text?.split(" · ")[1]),
          ["SUMMARY", "CAPTION", "REASONING", "CONCLUSION"],
          drawn.status,
        )
        assert.strictEqual(drawn.candidates, 16)
        assert.strictEqual(drawn.chosen, 4, "one chosen candidate per stage")
        assert.isAtLeast(drawn.matches, 8)
        assert.strictEqual(drawn.links, 12, "each later stage's candidates branch from the chosen one before")
        assert.strictEqual(drawn.chosenLinks, 3, "the chosen path")
        assert.strictEqual(drawn.servers, 2, "time per server, both simulated servers")
        assert.isAtLeast(drawn.bars, 4)
        assert.isAbove(drawn.conclusion.length, 0)
        // A candidate's full text on demand; a match's verdict and how it was decided.
        yield* Effect.promise(() => page.click('#tree .step[data-step="2"] .candidate[data-index="1"]'))
        const detail = yield* Effect.promise(() => page.textContent("#detail-text"))
        assert.match(detail ?? "", /<REASONING>[\s\S]+<\/REASONING>/)
        const verdict = yield* Effect.promise(() => page.textContent("#tree .match summary"))
        assert.match(verdict ?? "", /round 0: #\d vs #\d → #\d · (judge|identical)/)
        const shot = yield* screenshot(page, "search-page.png")
        assert.isTrue(existsSync(shot))
        assert.deepStrictEqual(problems, [])
      }),
    60_000,
  )

  it.live(
    "offers the gateway's judges; SWIRES with the reward judge draws each candidate's score",
    () =>
      Effect.gen(function* () {
        const { httpUrl } = yield* gateway
        const browser = yield* launchChromium
        const { page, problems } = yield* openPage(browser)
        yield* Effect.promise(() => page.goto(httpUrl!))
        yield* Effect.promise(() => page.waitForSelector('#judge option[value="reward"]', { state: "attached" }))
        const menu = yield* Effect.promise(() =>
          page.evaluate(() => ({
            names: [...document.querySelectorAll("#judge option")].map((option) => (option as HTMLOptionElement).value),
            selected: (document.getElementById("judge") as HTMLSelectElement).value,
          })),
        )
        assert.includeMembers(menu.names, ["self", "self-free-text", "reward"])
        assert.strictEqual(menu.selected, "self", "the default judge is selected")
        const image = yield* imageFile
        yield* Effect.promise(async () => {
          await page.setInputFiles("#image", image)
          await page.selectOption("#strategy", "swires")
          await page.selectOption("#judge", "reward")
          await page.fill("#seed", "3")
          await page.click("#run")
          await page.waitForSelector("body[data-state=done]", { timeout: 90_000 })
        })
        const drawn = yield* Effect.promise(() =>
          page.evaluate(() => {
            const chosen = [...document.querySelectorAll("#tree .candidate.chosen")]
            const scoreOf = (card: Element) => Number(/score (-?\d+\.\d{3})/.exec(card.textContent ?? "")?.[1])
            const conclusions = [...document.querySelectorAll("#tree .conclusions .candidate")]
            return {
              scores: [...document.querySelectorAll("#tree .candidate .marks")].filter((mark) =>
                /score -?\d+\.\d{3}/.test(mark.textContent ?? ""),
              ).length,
              summary: document.getElementById("summary")?.textContent ?? "",
              status: document.getElementById("status")?.textContent ?? "",
              passes: document.querySelectorAll("#tree .pass:not(.conclusions)").length,
              retraces: document.querySelectorAll("#tree .retrace-note").length,
              chosen: chosen.length,
              chosenLinks: document.querySelectorAll("#links path.chosen").length,
              // The answer is the best-scored conclusion, and the chosen caption one the pass kept.
              chosenConclusion: scoreOf(document.querySelector("#tree .conclusions .candidate.chosen")!),
              bestConclusion: Math.max(...conclusions.map(scoreOf)),
              chosenCaptionKept: document.querySelector("#tree .pass .candidate.chosen .marks") !== null,
            }
          }),
        )
        assert.isAtLeast(drawn.scores, 4, drawn.status)
        assert.include(drawn.summary, "SWIRES")
        assert.notInclude(drawn.summary, "KNOCKOUT")
        assert.isAtLeast(drawn.passes, 1)
        assert.strictEqual(drawn.retraces, drawn.passes - 1, "each pass but the last ended in a retrace")
        assert.strictEqual(drawn.chosen, 4, "summary, caption, reasoning and conclusion of the answer")
        assert.strictEqual(drawn.chosenLinks, 3)
        assert.strictEqual(drawn.chosenConclusion, drawn.bestConclusion)
        assert.include(drawn.summary, "judge reward")
        assert.match(drawn.summary, /\d+ scoring calls/)
        yield* screenshot(page, "swires-page.png")
        assert.deepStrictEqual(problems, [])
      }),
    120_000,
  )

  it.live("opens a saved trace and draws it; a refused request shows the gateway's reason", () =>
    Effect.gen(function* () {
      const { httpUrl } = yield* gateway
      // A trace as the page saves it: the events of a search, fetched from the same endpoint.
      const events = yield* Effect.promise(async () => {
        const response = await fetch(`${httpUrl}/v1/search/events`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            model: "Xkev/Llama-3.2V-11B-cot",
            messages: [{ role: "user", content: "Which is larger?\nA. 2\nB. 3" }],
            stagebeam: { strategy: "best_of_n", candidates: 3, seed: 2 },
          }),
        })
        const text = await response.text()
        return [...text.matchAll(/^data: (.*)$/gm)].map((match) => JSON.parse(match[1]!))
      })
      const file = join(mkdtempSync(join(tmpdir(), "stagebeam-trace-")), "trace.json")
      writeFileSync(file, JSON.stringify({ events }))
      const browser = yield* launchChromium
      const { page, problems } = yield* openPage(browser)
      yield* Effect.promise(async () => {
        await page.goto(httpUrl!)
        await page.setInputFiles("#open", file)
        await page.waitForSelector("body[data-state=done]")
      })
      const candidates = yield* Effect.promise(() => page.locator("#tree .candidate").count())
      assert.strictEqual(candidates, 3)
      assert.include((yield* Effect.promise(() => page.textContent("#status"))) ?? "", `${events.length} events`)
      yield* screenshot(page, "saved-trace.png")
      // No image: the page refuses before asking (the model was trained on questions with an image only).
      const searches: Array<string> = []
      page.on("request", (request) => {
        if (request.url().endsWith("/v1/search/events")) searches.push(request.url())
      })
      yield* Effect.promise(async () => {
        await page.click("#run")
        await page.waitForSelector("body[data-state=error]")
      })
      assert.include((yield* Effect.promise(() => page.textContent("#status"))) ?? "", "Choose an image first")
      assert.deepStrictEqual(searches, [])
      // An empty question: the gateway's 400 names the field, and the page says so.
      const image = yield* imageFile
      yield* Effect.promise(async () => {
        await page.setInputFiles("#image", image)
        await page.fill("#question", "   ")
        await page.click("#run")
        await page.waitForSelector("body[data-state=error]")
      })
      assert.include((yield* Effect.promise(() => page.textContent("#status"))) ?? "", "invalid messages[0].content")
      assert.strictEqual(searches.length, 1)
      assert.deepStrictEqual(
        problems.filter((problem) => !problem.includes("400")),
        [],
      )
    }),
  )

  it.live("cancels a running search: the gateway stops it (CANCELLED) and the page says so", () =>
    Effect.gen(function* () {
      // A slow simulator, so the search is still running when the button is pressed.
      const { httpUrl, metricsUrl } = yield* serveGateway.pipe(
        Effect.provide(GatewaySettings.layerTest({ simulator: { servers: 1, speed: 2 } })),
      )
      const browser = yield* launchChromium
      const { page, problems } = yield* openPage(browser)
      yield* Effect.promise(() => page.goto(httpUrl!))
      const image = yield* imageFile
      yield* Effect.promise(async () => {
        await page.setInputFiles("#image", image)
        await page.click("#run")
        await page.waitForSelector("#tree .step")
        await page.click("#cancel")
        await page.waitForSelector("body[data-state=cancelled]")
      })
      assert.include((yield* Effect.promise(() => page.textContent("#status"))) ?? "", "Cancelled")
      assert.isTrue(yield* Effect.promise(() => page.isDisabled("#cancel")))
      const cancelled = yield* Effect.promise(async () => {
        for (let tries = 0; tries < 50; tries++) {
          const metrics = await fetch(metricsUrl!).then((response) => response.text())
          if (
            /stagebeam_reason_calls_total\{[^}]*method="SearchEvents"[^}]*outcome="CANCELLED"[^}]*\} [1-9]/.test(
              metrics,
            )
          )
            return true
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
        return false
      })
      assert.isTrue(cancelled, "the gateway counted the search as CANCELLED")
      assert.deepStrictEqual(
        problems.filter((problem) => !problem.includes("search/events")),
        [],
      )
    }),
  )
})
