import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect } from "effect"

export interface Seen {
  readonly method: string
  readonly path: string
  readonly headers: IncomingMessage["headers"]
  readonly body: Record<string, unknown>
}

export type Handler = (request: Seen, response: ServerResponse) => void

/** A loopback HTTP server answering with `handler`; it remembers every request and when a client hung up. */
export const fakeServer = (handler: Handler) =>
  Effect.acquireRelease(
    Effect.callback<{
      readonly url: string
      readonly seen: Array<Seen>
      readonly closedEarly: () => number
      readonly close: () => void
    }>((resume) => {
      const seen: Array<Seen> = []
      let closedEarly = 0
      const server = createServer((request, response) => {
        const chunks: Array<Buffer> = []
        request.on("data", (chunk: Buffer) => chunks.push(chunk))
        request.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8")
          const entry = {
            method: request.method ?? "GET",
            path: request.url ?? "/",
            headers: request.headers,
            body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>),
          }
          seen.push(entry)
          response.on("close", () => {
            if (!response.writableFinished) closedEarly++
          })
          handler(entry, response)
        })
      })
      server.listen(0, "127.0.0.1", () =>
        resume(
          Effect.succeed({
            url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
            seen,
            closedEarly: () => closedEarly,
            close: () => server.close(),
          }),
        ),
      )
    }),
    (server) => Effect.sync(server.close),
  )

export const json = (response: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body)
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  response.end(text)
}

export const completion = (
  texts: ReadonlyArray<string>,
  extra: { readonly usage?: boolean; readonly choice?: Record<string, unknown> } = {},
) => ({
  id: "c",
  model: "m",
  choices: texts.map((content, index) => ({
    index,
    message: { content },
    finish_reason: "stop",
    ...extra.choice,
  })),
  ...(extra.usage === false ? {} : { usage: { prompt_tokens: 3, completion_tokens: 4 } }),
})
