import { createServer, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { type BufferedAnswer, type LeanTransport, makeLeanTransport } from "../src/LeanTransport.ts"

/**
 * Cancelling a request (issue #24): one on the wire closes its connection, which is how an HTTP/1.1 server (vLLM)
 * hears to stop; one still waiting for its connection never reaches the server and costs no connection.
 */

/** A loopback server counting connections and requests; `answer` answers (or holds) each request. */
const countingServer = async (answer: (response: ServerResponse) => void) => {
  let connections = 0
  let requests = 0
  let hungUp = 0
  let closed = 0
  const server = createServer((request, response) => {
    requests++
    request.resume()
    request.on("end", () => {
      response.on("close", () => {
        if (!response.writableFinished) hungUp++
      })
      answer(response)
    })
  })
  server.on("connection", (socket) => {
    connections++
    socket.on("close", () => closed++)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts: () => ({ connections, requests, hungUp, closed }),
    close: () => {
      server.closeAllConnections()
      server.close()
    },
  }
}

const ok = (response: ServerResponse) => {
  response.writeHead(200, { "content-type": "application/json", "content-length": "2" })
  response.end("{}")
}

const post = (transport: LeanTransport, url: string) =>
  new Promise<BufferedAnswer>((resolve, reject) => {
    transport.send(
      { method: "POST", url: `${url}/v1/chat/completions`, headers: ["content-type", "application/json"], body: "{}" },
      (error, answer) => (error === undefined ? resolve(answer!) : reject(error)),
    )
  })

/** A chat request sent with `send`, and whether its answer was ever handed on. */
const sendWatched = (transport: LeanTransport, url: string) => {
  let answered = false
  const cancel = transport.send({ method: "POST", url: `${url}/v1/chat/completions`, headers: [], body: "{}" }, () => {
    answered = true
  })
  return { cancel, heard: () => answered }
}

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

describe("LeanTransport", () => {
  it("a request cancelled before its connection is made never reaches the server, and its connection is kept", async () => {
    const server = await countingServer(ok)
    const transport = makeLeanTransport()
    cleanups.push(server.close, transport.close)
    const { cancel, heard } = sendWatched(transport, server.url)
    // Connecting takes a turn of the event loop: the request is still waiting for it.
    cancel()
    while (server.counts().connections === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    await new Promise((resolve) => setTimeout(resolve, 100))
    // The connection made for it carried nothing and is still open.
    expect(server.counts()).toEqual({ connections: 1, requests: 0, hungUp: 0, closed: 0 })
    const answer = await post(transport, server.url)
    expect(answer.status).toBe(200)
    expect(answer.body.toString()).toBe("{}")
    const { requests, closed } = server.counts()
    expect({ requests, closed }).toEqual({ requests: 1, closed: 0 })
    expect(heard()).toBe(false)
  })

  it("a request cancelled on the wire closes its connection, and its answer is never handed on", async () => {
    // The first request is held (a long generation); the rest are answered.
    const held: Array<ServerResponse> = []
    const server = await countingServer((response) => (held.length === 0 ? held.push(response) : ok(response)))
    const transport = makeLeanTransport()
    cleanups.push(server.close, transport.close)
    const { cancel, heard } = sendWatched(transport, server.url)
    while (held.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    cancel()
    while (server.counts().hungUp === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    // The next request gets a connection of its own.
    const answer = await post(transport, server.url)
    expect(answer.status).toBe(200)
    const { connections, requests, hungUp } = server.counts()
    expect({ requests, hungUp }).toEqual({ requests: 2, hungUp: 1 })
    // Not the closed one (the pool may open a spare beside it while that one is still closing).
    expect(connections).toBeGreaterThanOrEqual(2)
    expect(heard()).toBe(false)
  })
})
