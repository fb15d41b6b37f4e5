import { Clock, Context, Duration, Effect, type Exit, Fiber } from "effect"

/** The longest a Node timer waits; a longer wait sleeps on the clock. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** The clock a fiber has when nothing replaces it (TestClock does, in tests): real timers. */
const liveClock = Context.get(Context.empty(), Clock.Clock)

/**
 * `call`, or `orElse()` when `ms` pass first on the fiber's Clock (the call is interrupted, and has wound down,
 * before `orElse` runs), as `Effect.timeoutOrElse` does. That one races two forked fibers (the call and a sleep)
 * with their Option wrappers on every call; this one forks only the call and waits for it with one callback, timed
 * by a plain timer on the live clock (a sleep fiber only under another clock, so TestClock still drives it).
 * Interrupting the caller interrupts the call and waits for it.
 */
export const timeoutOrElse = <A, E, R, E2>(
  call: Effect.Effect<A, E, R>,
  ms: number,
  orElse: () => Effect.Effect<never, E2>,
): Effect.Effect<A, E | E2, R> =>
  Effect.withFiber((parent) => {
    const clock = parent.getRef(Clock.Clock)
    return Effect.callback<A, E | E2>((resume) => {
      // Started at once in the caller's context (its services, span and clock), like the race's fibers.
      const running = Effect.runForkWith(parent.context as Context.Context<R>)(call)
      let stopTimer: (() => void) | undefined
      const stopWaiting = running.addObserver((exit: Exit.Exit<A, E>) => {
        stopTimer?.()
        resume(exit)
      })
      if (running.pollUnsafe() !== undefined) return
      const timedOut = () => {
        stopWaiting()
        resume(Effect.andThen(Fiber.interrupt(running), Effect.suspend(orElse)))
      }
      if (clock === liveClock && ms <= MAX_TIMER_MS) {
        const handle = setTimeout(timedOut, ms)
        stopTimer = () => clearTimeout(handle)
      } else {
        const sleeping = Effect.runForkWith(parent.context)(clock.sleep(Duration.millis(ms)))
        sleeping.addObserver((exit) => {
          if (exit._tag === "Success") timedOut()
        })
        stopTimer = () => sleeping.interruptUnsafe(parent.id)
      }
      return Effect.suspend(() => {
        stopTimer?.()
        stopWaiting()
        return Fiber.interrupt(running)
      })
    })
  })
