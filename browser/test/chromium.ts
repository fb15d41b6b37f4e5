import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { type Browser, chromium, type Page } from "playwright-core"

/** Where the tests leave their screenshots (git-ignored, kept by CI with the other reports). */
export const SCREENSHOTS = join(import.meta.dirname, "../../reports/browser")

/**
 * Debian's Chromium, headless, with its background networking off (this machine has no network: without these
 * flags Chromium keeps trying to reach its update and sync services); Playwright gives each launch a fresh profile.
 */
export const launchChromium = Effect.acquireRelease(
  Effect.promise(() =>
    chromium.launch({
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    }),
  ),
  (browser: Browser) => Effect.promise(() => browser.close()),
)

/** A page 1280 px wide (a laptop), whose script errors, failed requests and console errors are collected, so a test can fail on them. */
export const openPage = (browser: Browser) =>
  Effect.gen(function* () {
    const page = yield* Effect.promise(() => browser.newPage({ viewport: { width: 1280, height: 1000 } }))
    const problems: Array<string> = []
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`))
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()}`)
    })
    page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`))
    return { page, problems }
  })

export const screenshot = (page: Page, name: string) =>
  Effect.promise(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true })
    const path = join(SCREENSHOTS, name)
    await page.screenshot({ path, fullPage: true })
    return path
  })
