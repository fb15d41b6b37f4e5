import { createHash, timingSafeEqual } from "node:crypto"
import { readFileSync, statSync } from "node:fs"
import { Duration, Effect, Ref, References, Schedule, type Scope, Stream } from "effect"
import type { CallContext } from "./CallContext.ts"
import { type GrpcStatusError, permissionDenied, resourceExhausted, unauthenticated } from "./GrpcStatusError.ts"
import { type MethodHandler, type ServiceImplementation, serverStream, unary } from "./Handlers.ts"

/** One named token: only its SHA-256 digest is kept, never the token itself. */
export interface Token {
  readonly name: string
  readonly digest: Buffer
  /** Most calls of this token at once (none: no limit). */
  readonly maxConcurrent: number | undefined
  /** Methods it may call (none: all). */
  readonly methods: ReadonlySet<string> | undefined
}

const digestOf = (token: string) => createHash("sha256").update(token).digest()

/**
 * Parses a token file: one `name:token` a line, optionally `:concurrency=N,methods=Reason+ReasonStream`; blank lines
 * and `#` comments skipped. A malformed line is reported by its number, never with its text (it holds a secret).
 */
export const parseTokens = (text: string): ReadonlyArray<Token> =>
  text.split("\n").flatMap((raw, index) => {
    const line = raw.trim()
    if (line === "" || line.startsWith("#")) return []
    const [name, token, options] = line.split(":")
    if (name === undefined || name === "" || token === undefined || token === "") {
      throw new Error(`line ${index + 1} is not name:token`)
    }
    let maxConcurrent: number | undefined
    let methods: ReadonlySet<string> | undefined
    for (const option of (options ?? "").split(",").filter((entry) => entry !== "")) {
      const [key, value = ""] = option.split("=")
      if (key === "concurrency" && /^[1-9]\d*$/.test(value)) maxConcurrent = Number(value)
      else if (key === "methods" && value !== "") methods = new Set(value.split("+"))
      else throw new Error(`line ${index + 1} has an unknown option (concurrency=N or methods=A+B)`)
    }
    return [{ name, digest: digestOf(token), maxConcurrent, methods }]
  })

/** The token a call presents matched against every known one in constant time per entry (no early exit). */
const match = (tokens: ReadonlyArray<Token>, presented: string): Token | undefined => {
  const digest = digestOf(presented)
  let found: Token | undefined
  for (const token of tokens) if (timingSafeEqual(token.digest, digest) && found === undefined) found = token
  return found
}

const BEARER = /^Bearer\s+(\S+)\s*$/i

/** Checks the bearer tokens of calls, whichever server they arrive at, and counts each token's calls at once. */
export interface TokenGate {
  /**
   * Checks the `authorization` value a call presents (`Bearer <token>`) for `method` and takes one of the token's
   * slots, given back when the scope closes. Fails UNAUTHENTICATED without a known token, PERMISSION_DENIED for a
   * method the token may not call, RESOURCE_EXHAUSTED past its concurrency limit.
   */
  readonly admit: (
    method: string,
    authorization: string | undefined,
  ) => Effect.Effect<Token, GrpcStatusError, Scope.Scope>
}

/** One gate over the tokens (read on every call, so a reloaded file takes effect at once). */
export const makeTokenGate = (tokens: Effect.Effect<ReadonlyArray<Token>>): Effect.Effect<TokenGate> =>
  Effect.gen(function* () {
    const running = yield* Ref.make<ReadonlyMap<string, number>>(new Map())
    const change = (name: string, delta: number) =>
      Ref.update(running, (all) => new Map(all).set(name, (all.get(name) ?? 0) + delta))

    // Made once per gate, not per call (CallMetrics' record says why).
    const admitting = Effect.fnUntraced(function* (method: string, authorization: string | undefined) {
      const presented = BEARER.exec(authorization ?? "")?.[1]
      const token = presented === undefined ? undefined : match(yield* tokens, presented)
      if (token === undefined)
        return yield* unauthenticated("a known bearer token is required (authorization: Bearer <token>)")
      if (token.methods !== undefined && !token.methods.has(method)) {
        return yield* permissionDenied(`the token ${token.name} may not call ${method}`)
      }
      const taken = yield* Ref.modify(running, (all) => {
        const now = all.get(token.name) ?? 0
        return token.maxConcurrent !== undefined && now >= token.maxConcurrent
          ? [false, all]
          : [true, new Map(all).set(token.name, now + 1)]
      })
      if (!taken) {
        return yield* resourceExhausted(`the token ${token.name} may make at most ${token.maxConcurrent} calls at once`)
      }
      yield* Effect.addFinalizer(() => change(token.name, -1))
      return token
    })
    const admit = (method: string, authorization: string | undefined) =>
      admitting(method, authorization).pipe(
        // Operators see refused calls; the token itself is never logged (only the name of a known one).
        Effect.tapError((error) =>
          Effect.logWarning("call refused by the token gate").pipe(
            Effect.annotateLogs({ method, status: error.statusName, reason: error.message }),
          ),
        ),
      )
    return { admit }
  })

/**
 * Middleware: every method of the implementation requires `authorization: Bearer <token>` with a token the gate
 * knows (see TokenGate.admit for the answers). The caller's name annotates the call's logs and reaches the handler
 * as `ctx.caller`. Services not wrapped
 * (health, reflection) stay open.
 */
export const withTokenGate = <R>(
  implementation: ServiceImplementation<R>,
  gate: TokenGate,
): ServiceImplementation<R> => {
  const admit = (method: string, ctx: CallContext) => gate.admit(method, ctx.metadata.authorization)
  const guard = (method: string, handler: MethodHandler<R>): MethodHandler<R> =>
    handler._tag === "Unary"
      ? unary((request: never, ctx) =>
          Effect.scoped(
            Effect.flatMap(admit(method, ctx), (token) =>
              handler.handle(request, { ...ctx, caller: token.name }).pipe(Effect.annotateLogs({ caller: token.name })),
            ),
          ),
        )
      : serverStream((request: never, ctx) =>
          Stream.unwrap(
            Effect.map(admit(method, ctx), (token) =>
              handler.handle(request, { ...ctx, caller: token.name }).pipe(
                Stream.updateService(References.CurrentLogAnnotations, (annotations) => ({
                  ...annotations,
                  caller: token.name,
                })),
              ),
            ),
          ),
        )
  return Object.fromEntries(Object.entries(implementation).map(([method, handler]) => [method, guard(method, handler)]))
}

/** withTokenGate over a gate of its own. */
export const withBearerTokens = <R>(
  implementation: ServiceImplementation<R>,
  tokens: Effect.Effect<ReadonlyArray<Token>>,
): Effect.Effect<ServiceImplementation<R>> =>
  Effect.map(makeTokenGate(tokens), (gate) => withTokenGate(implementation, gate))

/**
 * The tokens of a file, read now and again whenever it changes (checked every `interval`), so tokens are added
 * and revoked without a restart. A file that cannot be read or parsed at start fails; later, the last good
 * tokens stay in force and the problem is logged.
 */
export const watchTokenFile = (path: string, interval: Duration.Input = Duration.seconds(5)) =>
  Effect.gen(function* () {
    const read = Effect.try({
      try: () => ({ tokens: parseTokens(readFileSync(path, "utf8")), modified: statSync(path).mtimeMs }),
      catch: (error) => `cannot use the token file ${path}: ${error instanceof Error ? error.message : String(error)}`,
    })
    const first = yield* read
    const current = yield* Ref.make(first)
    yield* Effect.gen(function* () {
      const modified = yield* Effect.try({ try: () => statSync(path).mtimeMs, catch: () => -1 }).pipe(
        Effect.orElseSucceed(() => -1),
      )
      if (modified === (yield* Ref.get(current)).modified) return
      yield* read.pipe(
        Effect.flatMap((next) =>
          Effect.andThen(
            Ref.set(current, next),
            Effect.logInfo("bearer tokens reloaded").pipe(
              Effect.annotateLogs({ file: path, tokens: next.tokens.length }),
            ),
          ),
        ),
        Effect.catch((problem) => Effect.logWarning(problem)),
      )
    }).pipe(Effect.repeat(Schedule.spaced(interval)), Effect.forkScoped)
    return Effect.map(Ref.get(current), (state) => state.tokens)
  })
