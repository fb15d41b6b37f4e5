// Fetching the http(s) image URLs of a chat request before it is rendered, as vLLM does: each image part's URL is
// fetched on every request (no cache), with a deadline of VLLM_IMAGE_FETCH_TIMEOUT (5 s by default), and a failed
// fetch or bytes that are not an image answer 400. Read at vllm-project/vllm (v0.10.x): vllm/multimodal/utils.py
// (MediaConnector.fetch_image_async → load_from_url_async) and vllm/envs.py (VLLM_IMAGE_FETCH_TIMEOUT).
import { type ApiError, badRequest } from "./errors.ts"
import type { ChatRequest } from "./request.ts"

const FETCH_TIMEOUT_MS = 5_000
/** A ceiling on one image's bytes (vLLM has none; the simulator's own memory is the point). */
const MAX_IMAGE_BYTES = 64 * 1024 * 1024

/** Image fetches a simulator made, and their bytes, for benchmarks. */
export interface ImageFetchCounters {
  fetches: number
  bytes: number
}
export const imageFetchCounters: ImageFetchCounters = { fetches: 0, bytes: 0 }

const imageMagic: ReadonlyArray<ReadonlyArray<number>> = [
  [0x89, 0x50, 0x4e, 0x47],
  [0xff, 0xd8, 0xff],
  [0x47, 0x49, 0x46, 0x38],
  [0x52, 0x49, 0x46, 0x46],
  [0x42, 0x4d],
]

const httpUrlsOf = (request: ChatRequest): Array<string> =>
  request.messages.flatMap((message) =>
    message.content === undefined || message.content === null || typeof message.content === "string"
      ? []
      : message.content.flatMap((part) => {
          if (part.type !== "image_url") return []
          const url = typeof part.image_url === "string" ? part.image_url : part.image_url?.url
          return url !== undefined && /^https?:\/\//.test(url) ? [url] : []
        }),
  )

const fetchOne = async (url: string): Promise<ApiError | undefined> => {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) })
    if (!response.ok) return badRequest(`Failed to fetch image from ${url}: HTTP ${response.status}`)
    const declared = Number(response.headers.get("content-length") ?? "0")
    if (declared > MAX_IMAGE_BYTES) return badRequest(`Failed to fetch image from ${url}: too large`)
    const bytes = new Uint8Array(await response.arrayBuffer())
    imageFetchCounters.fetches++
    imageFetchCounters.bytes += bytes.length
    if (!imageMagic.some((magic) => magic.every((b, i) => bytes[i] === b)))
      return badRequest("cannot identify image file")
    return undefined
  } catch (error) {
    return badRequest(`Failed to fetch image from ${url}: ${(error as Error).message}`)
  }
}

/**
 * Fetches every http(s) image of the request: the first failure, if any, as vLLM answers it; undefined at once (no
 * promise, no tick) for a request without one.
 */
export const fetchImageUrls = (request: ChatRequest): Promise<ApiError | undefined> | undefined => {
  const urls = httpUrlsOf(request)
  if (urls.length === 0) return undefined
  return Promise.all(urls.map(fetchOne)).then((failures) => failures.find((failure) => failure !== undefined))
}
