import { Effect, References, Tracer } from "effect"

/**
 * A span for what runs many times per search (a round, a match): no stack trace and no stack-frame service (each a
 * copy of the fiber's context), and with the tracer off no span at all, where `Effect.withSpan` still makes and
 * provides a no-op one (issue #24).
 */
export const quietSpan =
  (name: string, attributes: Record<string, unknown>) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.withFiber((fiber) =>
      fiber.getRef(References.TracerEnabled)
        ? Effect.useSpan(name, { attributes }, (span) => Effect.provideService(effect, Tracer.ParentSpan, span))
        : effect,
    )
