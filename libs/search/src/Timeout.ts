import { Clock, Context, Duration, Effect, type Exit, Fiber } from "effect"

/** The clock a fiber has when nothing replaces it (TestClock does, in tests): real timers. */
const liveClock = Context.get(Context.empty(), Clock.Clock)

/** The longest a Node timer waits; a longer wait sleeps on the clock. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Waits for a running fiber's exit, or `ms` on the caller's Clock, whichever comes first, with one callback: a plain
 * timer on the live clock, a sleep fiber under another clock (so TestClock still drives it). `onTimeout` and
 * `onCancel` (the caller interrupted) say what becomes of the fiber then.
 */
const awaitOr = <A, E, E2>(
  clock: Clock.Clock,
  context: Context.Context<never>,
  start: () => Fiber.Fiber<A, E>,
  ms: number,
  onTimeout: (running: Fiber.Fiber<A, E>) => Effect.Effect<never, E2>,
  onCancel: (running: Fiber.Fiber<A, E>) => Effect.Effect<void>,
): Effect.Effect<A, E | E2> =>
  Effect.callback<A, E | E2>((resume) => {
    const running = start()
    let stopTimer: (() => void) | undefined
    const stopWaiting = running.addObserver((exit: Exit.Exit<A, E>) => {
      stopTimer?.()
      resume(exit)
    })
    if (running.pollUnsafe() !== undefined) return
    const timedOut = () => {
      stopWaiting()
      resume(onTimeout(running))
    }
    if (clock === liveClock && ms <= MAX_TIMER_MS) {
      const handle = setTimeout(timedOut, ms)
      stopTimer = () => clearTimeout(handle)
    } else {
      const sleeping = Effect.runForkWith(context)(clock.sleep(Duration.millis(ms)))
      sleeping.addObserver((exit) => {
        if (exit._tag === "Success") timedOut()
      })
      stopTimer = () => sleeping.interruptUnsafe()
    }
    return Effect.suspend(() => {
      stopTimer?.()
      stopWaiting()
      return onCancel(running)
    })
  })

/**
 * `call`, or `orElse()` when `ms` pass first on the fiber's Clock (the call is interrupted, and has wound down,
 * before `orElse` runs), as `Effect.timeoutOrElse` does. That one races two forked fibers (the call and a sleep)
 * with their Option wrappers on every call; this one forks only the call and waits for it with one callback.
 * Interrupting the caller interrupts the call and waits for it.
 */
export const timeoutOrElse = <A, E, R, E2>(
  call: Effect.Effect<A, E, R>,
  ms: number,
  orElse: () => Effect.Effect<never, E2>,
): Effect.Effect<A, E | E2, R> =>
  Effect.withFiber((parent) =>
    awaitOr(
      parent.getRef(Clock.Clock),
      parent.context,
      // Started at once in the caller's context (its services, span and clock), like the race's fibers.
      () => Effect.runForkWith(parent.context as Context.Context<R>)(call),
      ms,
      (running) => Effect.andThen(Fiber.interrupt(running), Effect.suspend(orElse)),
      Fiber.interrupt,
    ),
  )

/**
 * `Fiber.join(fiber)`, or `orElse()` when `ms` pass first, without a fiber to join it in (`timeoutOrElse` of a join
 * forks one): the fiber itself is left running either way, its owner decides its end.
 */
export const joinOrElse = <A, E, E2>(
  fiber: Fiber.Fiber<A, E>,
  ms: number,
  orElse: () => Effect.Effect<never, E2>,
): Effect.Effect<A, E | E2> =>
  Effect.withFiber((parent) =>
    awaitOr(
      parent.getRef(Clock.Clock),
      parent.context,
      () => fiber,
      ms,
      () => Effect.suspend(orElse),
      () => Effect.void,
    ),
  )
