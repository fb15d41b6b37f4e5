import type { MethodDefinition } from "@grpc/proto-loader"
import { Effect, type Stream } from "effect"
import type { ClientCallOptions, GrpcClient } from "./GrpcClient.ts"
import type { GrpcStatusError } from "./GrpcStatusError.ts"

/** The methods of a generated service definition, without grpc-js's index signature. */
type Methods<D> = { readonly [K in keyof D as string extends K ? never : K]: D[K] }

/** How each method of the service is called: one answer, or a stream of them. */
export type MethodKinds<D> = { readonly [K in keyof Methods<D>]: "unary" | "serverStream" }

/**
 * A client whose methods are typed by the service definition proto-loader-gen-types generated: the request a
 * method takes and the message it answers come from the proto, so a call that does not fit it does not compile.
 */
export type TypedClient<D, Kinds extends MethodKinds<D>> = {
  readonly [K in keyof Kinds & keyof Methods<D>]: Methods<D>[K] extends MethodDefinition<
    infer Request,
    infer _Response,
    infer _Received,
    infer Response
  >
    ? Kinds[K] extends "unary"
      ? (request: Request, options?: ClientCallOptions) => Effect.Effect<Response, GrpcStatusError>
      : (request: Request, options?: ClientCallOptions) => Stream.Stream<Response, GrpcStatusError>
    : never
}

/**
 * Binds the methods of a GrpcClient to the generated types of the service `D`. The kinds are checked against the
 * package definition the client was made from, so a kind that contradicts the proto fails here, not at a call.
 */
export const typedClient =
  <D>() =>
  <const Kinds extends MethodKinds<D>>(client: GrpcClient, kinds: Kinds): Effect.Effect<TypedClient<D, Kinds>> =>
    Effect.suspend(() => {
      const bound: Record<string, unknown> = {}
      for (const [method, kind] of Object.entries(kinds as Record<string, "unary" | "serverStream">)) {
        const streams = client.definition[method]?.responseStream
        if (streams === undefined || streams !== (kind === "serverStream")) {
          return Effect.die(new Error(`${method} is not a ${kind} method of ${client.service}`))
        }
        bound[method] =
          kind === "unary"
            ? (request: unknown, options?: ClientCallOptions) => client.unary(method, request, options)
            : (request: unknown, options?: ClientCallOptions) => client.serverStream(method, request, options)
      }
      return Effect.succeed(bound as TypedClient<D, Kinds>)
    })
