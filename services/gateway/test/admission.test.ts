import { assert, describe, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Fiber, Ref } from "effect"
import { TestClock } from "effect/testing"
import { Admission } from "../src/Admission.ts"

const admission = (capacity: number, maxQueued: number, maxHeldBytes = 1_000_000) =>
  Admission.layerWith({ capacity: Effect.succeed(capacity), maxQueued, maxHeldBytes })

const FAR = 1_000_000

describe("Admission", () => {
  it.effect("holds N permits per search and queues the one that does not fit", () =>
    Effect.gen(function* () {
      const { admit, load } = yield* Admission
      const release = yield* Deferred.make<void>()
      const hold = admit(() => Deferred.await(release), { sequences: 4, deadlineAt: FAR })
      const first = yield* Effect.forkChild(hold)
      const second = yield* Effect.forkChild(hold)
      yield* Effect.yieldNow
      assert.strictEqual((yield* load).waiting, 0)
      const third = yield* Effect.forkChild(admit(() => Effect.succeed("third ran"), { sequences: 1, deadlineAt: FAR }))
      yield* Effect.yieldNow
      assert.strictEqual((yield* load).waiting, 1)
      yield* Deferred.succeed(release, undefined)
      assert.strictEqual(yield* Fiber.join(third), "third ran")
      yield* Fiber.join(first)
      yield* Fiber.join(second)
      assert.strictEqual((yield* load).waiting, 0)
    }).pipe(Effect.provide(admission(8, 4))),
  )

  it.effect("refuses a call at once when the queue is full", () =>
    Effect.gen(function* () {
      const { admit } = yield* Admission
      yield* Effect.forkChild(admit(() => Effect.never, { sequences: 8, deadlineAt: FAR }))
      yield* Effect.yieldNow
      const refused = yield* Effect.flip(admit(() => Effect.void, { sequences: 1, deadlineAt: FAR }))
      assert.strictEqual(refused._tag, "Overloaded")
    }).pipe(Effect.provide(admission(8, 0))),
  )

  it.effect("a queued call gives up when its deadline passes", () =>
    Effect.gen(function* () {
      const { admit, load } = yield* Admission
      yield* Effect.forkChild(admit(() => Effect.never, { sequences: 2, deadlineAt: FAR }))
      yield* Effect.yieldNow
      const late = yield* Effect.forkChild(Effect.flip(admit(() => Effect.void, { sequences: 2, deadlineAt: 5_000 })))
      yield* TestClock.adjust("6 seconds")
      const error = yield* Fiber.join(late)
      assert.strictEqual(error._tag, "DeadlinePassed")
      assert.strictEqual((yield* load).waiting, 0)
    }).pipe(Effect.provide(admission(2, 4))),
  )

  it.effect("first come, first served: a large search is not overtaken by smaller ones that would fit", () =>
    Effect.gen(function* () {
      const { admit, load } = yield* Admission
      const started: Array<string> = []
      const release = yield* Deferred.make<void>()
      const run = (name: string, sequences: number, until: Effect.Effect<void> = Effect.void) =>
        Effect.forkChild(
          admit(
            () =>
              Effect.andThen(
                Effect.sync(() => started.push(name)),
                until,
              ),
            { sequences, deadlineAt: FAR },
          ),
        )
      const holder = yield* run("holder", 6, Deferred.await(release))
      yield* Effect.yieldNow
      const large = yield* run("large", 6)
      yield* Effect.yieldNow
      // 2 sequences are free, enough for these, but they arrived after the large one.
      const small = yield* Effect.forEach(["small-1", "small-2"], (name) => run(name, 1))
      yield* Effect.yieldNow
      assert.deepStrictEqual(started, ["holder"])
      assert.strictEqual((yield* load).waiting, 3)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      yield* Fiber.join(large)
      yield* Effect.forEach(small, Fiber.join)
      assert.deepStrictEqual(started, ["holder", "large", "small-1", "small-2"])
      assert.strictEqual((yield* load).waiting, 0)
    }).pipe(Effect.provide(admission(8, 8))),
  )

  it.effect("a waiter that gives up lets the ones behind it in", () =>
    Effect.gen(function* () {
      const { admit, load } = yield* Admission
      const release = yield* Deferred.make<void>()
      yield* Effect.forkChild(admit(() => Deferred.await(release), { sequences: 6, deadlineAt: FAR }))
      yield* Effect.yieldNow
      const large = yield* Effect.forkChild(Effect.flip(admit(() => Effect.void, { sequences: 8, deadlineAt: 5_000 })))
      yield* Effect.yieldNow
      const small = yield* Effect.forkChild(admit(() => Effect.succeed("small ran"), { sequences: 2, deadlineAt: FAR }))
      yield* Effect.yieldNow
      assert.strictEqual((yield* load).waiting, 2)
      yield* TestClock.adjust("6 seconds")
      assert.strictEqual((yield* Fiber.join(large))._tag, "DeadlinePassed")
      assert.strictEqual(yield* Fiber.join(small), "small ran")
      yield* Deferred.succeed(release, undefined)
    }).pipe(Effect.provide(admission(8, 8))),
  )

  it.effect("refuses a call whose image bytes would pass the budget; a fetched image is held once it arrives", () =>
    Effect.gen(function* () {
      const { admit, load } = yield* Admission
      const release = yield* Deferred.make<void>()
      const fetched = yield* Deferred.make<void>()
      // A URL image holds nothing while it waits; its bytes count from when it has arrived.
      yield* Effect.forkChild(
        admit(
          (lease) =>
            Effect.andThen(
              Effect.andThen(lease.holdBytes(3), Deferred.succeed(fetched, undefined)),
              Deferred.await(release),
            ),
          { sequences: 1, deadlineAt: FAR },
        ),
      )
      yield* Deferred.await(fetched)
      assert.strictEqual((yield* load).heldBytes, 3)
      yield* Effect.forkChild(admit(() => Deferred.await(release), { sequences: 1, bytes: 90, deadlineAt: FAR }))
      yield* Effect.yieldNow
      assert.strictEqual((yield* load).heldBytes, 93)
      const refused = yield* Effect.flip(admit(() => Effect.void, { sequences: 1, bytes: 10, deadlineAt: FAR }))
      assert.strictEqual(refused._tag, "Overloaded")
      assert.include(refused.message, "image bytes")
      const tooLarge = yield* Effect.flip(admit((lease) => lease.holdBytes(10), { sequences: 1, deadlineAt: FAR }))
      assert.strictEqual(tooLarge._tag, "Overloaded")
      assert.strictEqual((yield* load).heldBytes, 93)
      assert.strictEqual(
        yield* admit(() => Effect.succeed("fits"), { sequences: 1, bytes: 7, deadlineAt: FAR }),
        "fits",
      )
      yield* Deferred.succeed(release, undefined)
      yield* Effect.yieldNow
      assert.strictEqual((yield* load).heldBytes, 0)
    }).pipe(Effect.provide(admission(8, 8, 100))),
  )

  it.effect("refuses at once a call that could not be answered before its deadline, and queues one that could", () =>
    Effect.gen(function* () {
      const { admit, load } = yield* Admission
      // One search of 10 s finishes: the pace admission expects from now on.
      const first = yield* Effect.forkChild(admit(() => Effect.sleep("10 seconds"), { sequences: 2, deadlineAt: FAR }))
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(first)
      const release = yield* Deferred.make<void>()
      yield* Effect.forkChild(admit(() => Deferred.await(release), { sequences: 2, deadlineAt: FAR }))
      yield* Effect.yieldNow
      const now = yield* Clock.currentTimeMillis
      // Waiting for the running search (about 10 s) and then running (10 s) takes about 20 s.
      const late = yield* Effect.flip(admit(() => Effect.void, { sequences: 2, deadlineAt: now + 15_000 }))
      assert.strictEqual(late._tag, "Overloaded")
      assert.include(late.message, "cannot answer within the deadline")
      assert.strictEqual((yield* load).waiting, 0)
      const patient = yield* Effect.forkChild(
        admit(() => Effect.succeed("ran"), { sequences: 2, deadlineAt: now + 60_000 }),
      )
      yield* Effect.yieldNow
      assert.strictEqual((yield* load).waiting, 1)
      yield* Deferred.succeed(release, undefined)
      assert.strictEqual(yield* Fiber.join(patient), "ran")
    }).pipe(Effect.provide(admission(2, 8))),
  )

  it.effect("capacity follows the fleet: a waiting search starts when a server joins", () =>
    Effect.gen(function* () {
      const capacity = yield* Ref.make(4)
      const { admit, load } = yield* Admission.make({ capacity: Ref.get(capacity), maxQueued: 8, maxHeldBytes: 1_000 })
      yield* Effect.forkChild(admit(() => Effect.never, { sequences: 4, deadlineAt: FAR }))
      yield* Effect.yieldNow
      const waiting = yield* Effect.forkChild(admit(() => Effect.succeed("ran"), { sequences: 4, deadlineAt: FAR }))
      yield* Effect.yieldNow
      assert.strictEqual((yield* load).waiting, 1)
      yield* Ref.set(capacity, 8)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(waiting), "ran")
    }).pipe(Effect.scoped),
  )

  it.effect("a search larger than the whole capacity still runs, alone", () =>
    Effect.gen(function* () {
      const { admit } = yield* Admission
      assert.strictEqual(yield* admit(() => Effect.succeed("ran"), { sequences: 64, deadlineAt: FAR }), "ran")
    }).pipe(Effect.provide(admission(8, 0))),
  )
})
