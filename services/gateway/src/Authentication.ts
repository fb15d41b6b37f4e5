import { makeTokenGate, type TokenGate, watchTokenFile } from "@stagebeam/grpc"
import { Context, Effect, Layer } from "effect"
import { GatewaySettings } from "./config/GatewaySettings.ts"
import { GatewayConfigError } from "./GatewayErrors.ts"

/**
 * The bearer tokens of `auth.tokensFile` (watched and reloaded), as one gate that both doors check: a token's
 * concurrency limit counts its gRPC and HTTP calls together. None: no authentication.
 */
export class Authentication extends Context.Service<Authentication, { readonly gate: TokenGate | undefined }>()(
  "@stagebeam/gateway/Authentication",
) {
  static readonly layer = Layer.effect(
    Authentication,
    Effect.gen(function* () {
      const tokensFile = (yield* GatewaySettings).auth?.tokensFile
      if (tokensFile === undefined) return Authentication.of({ gate: undefined })
      const tokens = yield* watchTokenFile(tokensFile).pipe(
        Effect.mapError((problem) => new GatewayConfigError({ message: `auth.tokensFile: ${problem}` })),
      )
      return Authentication.of({ gate: yield* makeTokenGate(tokens) })
    }),
  )
}
