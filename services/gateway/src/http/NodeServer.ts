import { readFileSync, statSync } from "node:fs"
import * as Http from "node:http"
import * as Https from "node:https"
import type { ServerTls } from "@stagebeam/grpc"
import { Duration, Effect, Schedule } from "effect"
import { GatewayConfigError } from "../GatewayErrors.ts"

/** How often the certificate files are checked for changes, as the gRPC server does. */
const REFRESH = Duration.minutes(1)

const readTls = (tls: ServerTls) => ({
  cert: readFileSync(tls.certFile),
  key: readFileSync(tls.keyFile),
  ...(tls.clientCaFile === undefined ? {} : { ca: readFileSync(tls.clientCaFile) }),
})

const modifiedOf = (tls: ServerTls) =>
  [tls.certFile, tls.keyFile, tls.clientCaFile]
    .map((file) => (file === undefined ? 0 : (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? -1)))
    .join(":")

/**
 * The Node server under the HTTP door: plain HTTP, or HTTPS with the gRPC port's certificate (and client CA:
 * clients must then show a certificate it signed). The files are checked every minute and a renewed certificate
 * is served to new connections without a restart, as on the gRPC port.
 */
export const makeNodeServer = (tls: ServerTls | undefined, refresh: Duration.Input = REFRESH) =>
  Effect.gen(function* () {
    if (tls === undefined) return Http.createServer()
    const files = yield* Effect.try({
      try: () => readTls(tls),
      catch: (error) =>
        new GatewayConfigError({
          message: `tls: cannot read the certificate files: ${error instanceof Error ? error.message : String(error)}`,
        }),
    })
    const server = Https.createServer({
      ...files,
      ...(files.ca === undefined ? {} : { requestCert: true, rejectUnauthorized: true }),
    })
    let seen = modifiedOf(tls)
    yield* Effect.gen(function* () {
      const now = modifiedOf(tls)
      if (now === seen) return
      yield* Effect.try(() => {
        server.setSecureContext(readTls(tls))
        seen = now
      }).pipe(
        Effect.andThen(Effect.logInfo("HTTP TLS certificate reloaded")),
        // The last good certificate stays in force.
        Effect.catch((error) => Effect.logWarning(`HTTP TLS certificate not reloaded: ${String(error)}`)),
      )
    }).pipe(Effect.repeat(Schedule.spaced(refresh)), Effect.forkScoped)
    return server
  })
