import { execFile } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { promisify } from "node:util"
import { assert, describe, it } from "@effect/vitest"
import { GatewaySettings, serveGateway } from "@stagebeam/gateway"
import { Effect } from "effect"
import { launchChromium, openPage, screenshot } from "./chromium.ts"

const CLI = join(import.meta.dirname, "../../services/cli/bin/stagebeam.js")
const TSV = join(import.meta.dirname, "../../services/cli/data/demo-mcq.tsv")

describe("stagebeam eval's report", () => {
  it.live(
    "opens in the browser without errors: the paper's table with this run's rows, the simulated banner, the cost plot, nothing fetched",
    () =>
      Effect.gen(function* () {
        const { address } = yield* serveGateway.pipe(Effect.provide(GatewaySettings.layerTest()))
        const out = mkdtempSync(join(tmpdir(), "stagebeam-report-"))
        yield* Effect.promise(() =>
          promisify(execFile)(process.execPath, [
            CLI,
            "eval",
            TSV,
            "--out",
            out,
            "-a",
            address,
            "--strategies",
            "greedy,best_of_n:4,stage_beam:4",
          ]),
        )
        const browser = yield* launchChromium
        const { page, problems } = yield* openPage(browser)
        const requests: Array<string> = []
        page.on("request", (request) => requests.push(request.url()))
        yield* Effect.promise(async () => {
          await page.goto(pathToFileURL(join(out, "report.html")).href)
          await page.waitForSelector("body[data-ready=true]", { timeout: 10_000 })
        })
        // Each plot drew something: its canvas holds pixels that are not all blank.
        const inked = yield* Effect.promise(() =>
          page.evaluate(() =>
            [...document.querySelectorAll("canvas")].map((canvas) => {
              const context = canvas.getContext("2d")!
              const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data
              let painted = 0
              for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++
              return painted
            }),
          ),
        )
        assert.strictEqual(inked.length, 1, "accuracy against GPU cost")
        for (const painted of inked) assert.isAbove(painted, 1000)
        const measured = yield* Effect.promise(() => page.locator("#paper-table tbody tr.measured").count())
        assert.strictEqual(measured, 3, "one row per configuration beside the paper's")
        const published = yield* Effect.promise(() => page.locator("#paper-table tbody tr.paper").count())
        assert.isAtLeast(published, 2)
        assert.isTrue(yield* Effect.promise(() => page.isVisible(".banner")), "a simulated run says so")
        assert.deepStrictEqual(
          requests.filter((url) => !url.startsWith("file:")),
          [],
          "the report fetches nothing",
        )
        yield* screenshot(page, "eval-report.png")
        assert.deepStrictEqual(problems, [])
      }),
    // 72 searches through the CLI first: minutes on a busy 2-core machine.
    180_000,
  )
})
