import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { isFresh, makeLoadReports } from "../src/LoadReports.ts"
import { OpenAiClient } from "../src/OpenAiClient.ts"

/** A fleet whose /metrics reads are only counted. */
const countingClient = (scrapes: Array<string>) =>
  Layer.succeed(
    OpenAiClient,
    OpenAiClient.of({
      chat: () => Effect.die("no chat here"),
      post: () => Effect.die("no post here"),
      health: () => Effect.succeed(true),
      get: () => Effect.succeed(undefined),
      serverLoad: (server) =>
        Effect.sync(() => {
          scrapes.push(server)
          return { running: 1, waiting: 0, kvUsage: 0.1 }
        }),
    }),
  )

describe("load reports by need", () => {
  it.effect("an idle pool reads no /metrics; its next pick reads them first; a busy one reads at its interval", () =>
    Effect.gen(function* () {
      const scrapes: Array<string> = []
      let inFlight = 0
      const reports = yield* makeLoadReports({
        servers: Effect.succeed(["http://a", "http://b"]),
        ownSequencesOn: (server) => Effect.succeed(server === "http://a" ? inFlight : 0),
        interval: Effect.succeed(Duration.millis(100)),
      }).pipe(Effect.provide(countingClient(scrapes)))
      yield* Effect.yieldNow
      // Idle for 10 s: the round at start only (no pick needs a report until the next pick).
      for (let i = 0; i < 100; i++) yield* TestClock.adjust("100 millis")
      assert.strictEqual(scrapes.length / 2, 1)
      // The next pick reads them first, and finds every report fresh.
      const picked = yield* reports.forPick
      assert.strictEqual(scrapes.length / 2, 2)
      const now = yield* Clock.currentTimeMillis
      for (const server of ["http://a", "http://b"]) assert.isTrue(isFresh(picked.get(server), now))
      // Busy (a call in flight): every interval.
      inFlight = 1
      yield* reports.forPick
      yield* TestClock.adjust("1 second")
      const before = scrapes.length
      for (let i = 0; i < 10; i++) yield* TestClock.adjust("100 millis")
      assert.isAtLeast((scrapes.length - before) / 2, 9)
      // The call ended and no pick came: reads stop again (after at most one more round).
      inFlight = 0
      yield* TestClock.adjust("1 second")
      const quiet = scrapes.length
      for (let i = 0; i < 50; i++) yield* TestClock.adjust("100 millis")
      assert.strictEqual(scrapes.length, quiet)
    }).pipe(Effect.scoped),
  )
})
