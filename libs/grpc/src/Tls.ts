import { readFileSync } from "node:fs"
import * as grpc from "@grpc/grpc-js"
import { Duration } from "effect"

/** The server's TLS: its certificate and key, and the CA its clients' certificates must come from (mTLS). */
export interface ServerTls {
  readonly certFile: string
  readonly keyFile: string
  /** Present: clients must show a certificate signed by this CA. */
  readonly clientCaFile?: string | undefined
  /** How often the files are checked for changes (default 1 minute): a renewed certificate takes over without a restart. */
  readonly refreshInterval?: Duration.Input | undefined
}

/** The first update a provider gives: files read (or unreadable, then null). */
const firstUpdate = (provider: grpc.experimental.CertificateProvider, kind: "identity" | "ca") =>
  new Promise<boolean>((resolve) => {
    const listener = (update: unknown) => {
      if (kind === "identity") provider.removeIdentityCertificateListener(listener)
      else provider.removeCaCertificateListener(listener)
      resolve(update !== null)
    }
    if (kind === "identity") provider.addIdentityCertificateListener(listener)
    else provider.addCaCertificateListener(listener)
  })

/**
 * Credentials that watch the files: grpc-js reloads them every `refreshInterval`, so certificates renewed in place
 * (cert-manager, a mounted Secret) are served to new connections without a restart. `loaded` says whether the
 * files could be read: until then grpc-js drops every connection, so the server binds only after it.
 */
export const serverCredentials = (
  tls: ServerTls | undefined,
): { readonly credentials: grpc.ServerCredentials; readonly loaded: Promise<boolean> } => {
  if (tls === undefined) return { credentials: grpc.ServerCredentials.createInsecure(), loaded: Promise.resolve(true) }
  const refreshIntervalMs = Duration.toMillis(Duration.fromInputUnsafe(tls.refreshInterval ?? Duration.minutes(1)))
  const identity = new grpc.experimental.FileWatcherCertificateProvider({
    certificateFile: tls.certFile,
    privateKeyFile: tls.keyFile,
    refreshIntervalMs,
  })
  const clientCa =
    tls.clientCaFile === undefined
      ? null
      : new grpc.experimental.FileWatcherCertificateProvider({ caCertificateFile: tls.clientCaFile, refreshIntervalMs })
  const loaded = Promise.all([
    firstUpdate(identity, "identity"),
    clientCa === null ? true : firstUpdate(clientCa, "ca"),
  ]).then((all) => all.every(Boolean))
  // grpc-js takes the identity provider first, whatever its declaration calls the parameter.
  return {
    credentials: grpc.experimental.createCertificateProviderServerCredentials(identity, clientCa, clientCa !== null),
    loaded,
  }
}

/** A client's TLS: the CA that signed the server's certificate, and its own certificate for mTLS. */
export interface ClientTls {
  readonly caFile: string
  readonly certFile?: string | undefined
  readonly keyFile?: string | undefined
}

export const channelCredentials = (tls: ClientTls | undefined): grpc.ChannelCredentials =>
  tls === undefined
    ? grpc.credentials.createInsecure()
    : grpc.credentials.createSsl(
        readFileSync(tls.caFile),
        tls.keyFile === undefined ? null : readFileSync(tls.keyFile),
        tls.certFile === undefined ? null : readFileSync(tls.certFile),
      )
