import type { GrpcClientOptions } from "@stagebeam/grpc"
import { Option } from "effect"
import { Flag } from "effect/cli"

/** A flag's help text with its default, so `--help` shows both. */
export const described =
  (text: string, byDefault?: string) =>
  <A>(self: Flag.Flag<A>): Flag.Flag<A> =>
    Flag.withDescription(self, byDefault === undefined ? text : `${text} (default: ${byDefault})`)

/** How to reach a gateway: shared by every command that calls one. */
export const connectionFlags = {
  address: Flag.String("address").pipe(
    Flag.withAlias("a"),
    described("host:port of a stagebeam gateway's gRPC port", "127.0.0.1:50051"),
    Flag.withDefault("127.0.0.1:50051"),
  ),
  token: Flag.String("token").pipe(
    described("Bearer token, for a gateway with auth.tokensFile", "the STAGEBEAM_TOKEN variable, else none"),
    Flag.optional,
  ),
  tlsCa: Flag.String("tls-ca").pipe(
    described("PEM file of the CA of the gateway's certificate: connect over TLS", "plaintext"),
    Flag.optional,
  ),
  tlsCert: Flag.String("tls-cert").pipe(
    described("PEM file of this client's certificate (mTLS)", "none"),
    Flag.optional,
  ),
  tlsKey: Flag.String("tls-key").pipe(described("PEM file of this client's key (mTLS)", "none"), Flag.optional),
}

export interface Connection {
  readonly address: string
  readonly token: Option.Option<string>
  readonly tlsCa: Option.Option<string>
  readonly tlsCert: Option.Option<string>
  readonly tlsKey: Option.Option<string>
}

/** The client options of a connection (TLS when a CA is given). */
export const clientOptions = (connection: Connection): Omit<GrpcClientOptions, "packageDefinition" | "service"> => ({
  address: connection.address,
  ...(Option.isSome(connection.tlsCa)
    ? {
        tls: {
          caFile: connection.tlsCa.value,
          certFile: Option.getOrUndefined(connection.tlsCert),
          keyFile: Option.getOrUndefined(connection.tlsKey),
        },
      }
    : {}),
})

/** The metadata of every call: the bearer token, from the flag or STAGEBEAM_TOKEN. */
export const callMetadata = (connection: Connection): Readonly<Record<string, string>> => {
  const token = Option.orElse(connection.token, () => Option.fromUndefinedOr(process.env.STAGEBEAM_TOKEN))
  return Option.match(token, { onNone: () => ({}), onSome: (value) => ({ authorization: `Bearer ${value}` }) })
}
