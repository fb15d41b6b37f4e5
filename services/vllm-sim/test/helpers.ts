// Shared helpers for the simulator's tests: requests shaped like the orchestrator's, deadlines on every call.
import zlib from "node:zlib"

export const pngDataUrl = `data:image/png;base64,${Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]).toString("base64")}`

export const mcQuestion = "What color is the umbrella on the left?\nA. Red\nB. Blue\nC. Green\nD. Yellow"

export const userTurn = (text: string, image = true) => ({
  role: "user" as const,
  content: [
    ...(image ? [{ type: "image_url" as const, image_url: { url: pngDataUrl } }] : []),
    { type: "text" as const, text },
  ],
})

export const postChat = (url: string, body: unknown, headers: Record<string, string> = {}, timeoutMs = 10_000) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  })

export const getJson = async (url: string) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) })
  return (await res.json()) as Record<string, unknown>
}

/** Polls until the predicate holds (logical state, not timing), failing after a deadline. */
export const eventually = async (check: () => Promise<boolean> | boolean, timeoutMs = 5000) => {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 5))
  }
  throw new Error("condition not reached before the deadline")
}

/** Reads an SSE body into its data payloads. */
export const readSse = async (res: Response): Promise<Array<string>> => {
  const text = await res.text()
  return text
    .split("\n\n")
    .map((e) => e.trim())
    .filter((e) => e.startsWith("data: "))
    .map((e) => e.slice("data: ".length))
}

/**
 * A PNG data URL whose header says `width`×`height` (signature and IHDR chunk with its CRC; no pixel data: the
 * simulator reads the size, as mllama's processor would after decoding).
 */
export const pngOfSize = (width: number, height: number) => {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr.set([8, 2, 0, 0, 0], 8)
  const type = Buffer.from("IHDR", "latin1")
  const length = Buffer.alloc(4)
  length.writeUInt32BE(13)
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([type, ihdr])))
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  return `data:image/png;base64,${Buffer.concat([signature, length, type, ihdr, crc]).toString("base64")}`
}
