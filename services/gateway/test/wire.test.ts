import { assert, describe, it } from "@effect/vitest"
import { toWire } from "@stagebeam/proto"
import { Effect } from "effect"
import { pngImage, startGateway } from "./harness.ts"

const MODEL = "Xkev/Llama-3.2V-11B-cot"

/** Every key of a JSON value with its path, except the keys of the records named in `dataKeys` (names, not fields). */
const keysOf = (value: unknown, path = "", dataKeys: ReadonlyArray<string> = []): ReadonlyArray<string> => {
  if (Array.isArray(value)) return value.flatMap((inner, i) => keysOf(inner, `${path}[${i}]`, dataKeys))
  if (value === null || typeof value !== "object") return []
  return Object.entries(value).flatMap(([key, inner]) => {
    const at = path === "" ? key : `${path}.${key}`
    if (dataKeys.includes(path)) return keysOf(inner, at, dataKeys)
    return [at, ...keysOf(inner, at, dataKeys)]
  })
}

/** Keys that break the convention: anything with an upper-case letter. */
const camelKeysOf = (value: unknown, dataKeys: ReadonlyArray<string> = []) =>
  keysOf(value, "", dataKeys).filter((path) =>
    /[A-Z]/.test(
      path
        .split(".")
        .at(-1)!
        .replace(/\[\d+\]$/, ""),
    ),
  )

/** The values under keys ending in `_ms`, `seed` or `_tokens`: the 64-bit counts and times. */
const countsOf = (value: unknown, path = ""): ReadonlyArray<readonly [string, unknown]> => {
  if (Array.isArray(value)) return value.flatMap((inner, i) => countsOf(inner, `${path}[${i}]`))
  if (value === null || typeof value !== "object") return []
  return Object.entries(value).flatMap(([key, inner]) => {
    const at = path === "" ? key : `${path}.${key}`
    const own = /(_ms|^seed|_tokens)$/.test(key) ? [[at, inner] as const] : []
    return [...own, ...countsOf(inner, at)]
  })
}

const assertConvention = (what: string, value: unknown, dataKeys: ReadonlyArray<string> = []) => {
  assert.deepStrictEqual(camelKeysOf(value, dataKeys), [], `${what}: keys not in snake_case`)
  for (const [path, count] of countsOf(value))
    assert.strictEqual(typeof count, "number", `${what}: ${path} is a number`)
}

const send = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
const postJson = (url: string, body: unknown) => Effect.promise(async () => (await send(url, body)).json() as unknown)
const postText = (url: string, body: unknown) => Effect.promise(async () => (await send(url, body)).text())
const getJson = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url)
    return (await response.json()) as unknown
  })

/** The JSON of each `data:` line of a server-sent event stream, with its event name. */
const eventsOf = (text: string) =>
  text
    .split("\n\n")
    .filter((block) => block.includes("data: {"))
    .map((block) => ({
      name: /^event: (.*)$/m.exec(block)?.[1],
      data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as unknown,
    }))

describe("one JSON convention on the HTTP door: snake_case keys, counts and times as numbers", () => {
  it("turns the gRPC door's proto JSON into it, keeping other strings and the values it does not know", () => {
    const wire = toWire({
      atMs: "1234",
      candidate: { step: 1, mergedIntoPlusOne: 0, startedAtMs: "10", endedAtMs: "20", text: "atMs 5", server: "a" },
      done: {
        seed: "4294967295",
        usage: { promptTokens: "12", completionTokens: "3", generationCalls: 4 },
        truncatedReason: "",
        selection: { bothOrders: false, deviations: ["judge.both_orders"] },
      },
    })
    assert.deepStrictEqual(wire, {
      at_ms: 1234,
      candidate: { step: 1, merged_into_plus_one: 0, started_at_ms: 10, ended_at_ms: 20, text: "atMs 5", server: "a" },
      done: {
        seed: 4294967295,
        usage: { prompt_tokens: 12, completion_tokens: 3, generation_calls: 4 },
        truncated_reason: "",
        selection: { both_orders: false, deviations: ["judge.both_orders"] },
      },
    })
    // Names that are data (pools by the operator's name, VLMEvalKit's metrics) are kept as written.
    assert.deepStrictEqual(toWire({ pools: { myPool: { keyRefused: 1 } } }, { records: ["pools"] }), {
      pools: { myPool: { key_refused: 1 } },
    })
    // Past 2^53 - 1 a double would round it: kept as the decimal string instead.
    assert.deepStrictEqual(toWire({ seed: "18446744073709551615" }), { seed: "18446744073709551615" })
  })

  it.live(
    "holds for every JSON the door answers: completions (trace, usage chunk), events, judges, describe, health, errors",
    () =>
      Effect.gen(function* () {
        const { gateway } = yield* startGateway()
        const url = gateway.httpUrl!
        const image = `data:image/png;base64,${Buffer.from(yield* pngImage()).toString("base64")}`
        const messages = [
          {
            role: "user",
            content: [
              { type: "text", text: "Which shape is shown?\nA. circle\nB. square" },
              { type: "image_url", image_url: { url: image } },
            ],
          },
        ]
        const search = { candidates: 2, seed: 5, include_trace: true }

        const completion = (yield* postJson(`${url}/v1/chat/completions`, {
          model: MODEL,
          messages,
          stagebeam: search,
        })) as { stagebeam: { seed: unknown; selection: object; trace: ReadonlyArray<Record<string, unknown>> } }
        assertConvention("chat.completion", completion)
        assert.isAbove(completion.stagebeam.trace.length, 0)
        assert.strictEqual(completion.stagebeam.seed, 5)
        assert.property(completion.stagebeam.selection, "both_orders")
        assert.strictEqual(typeof completion.stagebeam.trace[0]!.at_ms, "number")
        assert.property(completion.stagebeam.trace[0], "search_started")

        const streamed = yield* postText(`${url}/v1/chat/completions`, {
          model: MODEL,
          messages,
          stream: true,
          stream_options: { include_usage: true },
          stagebeam: search,
        })
        const chunks = eventsOf(streamed)
        assert.isAbove(chunks.length, 3)
        for (const chunk of chunks) assertConvention("chat.completion.chunk", chunk.data)
        assert.property(chunks.at(-1)!.data, "usage")

        const events = eventsOf(
          yield* postText(`${url}/v1/search/events`, { model: MODEL, messages, stagebeam: search }),
        )
        for (const event of events) assertConvention(`event ${event.name}`, event.data)
        // The event's name is its one field's key, in the same casing.
        for (const { name, data } of events) assert.property(data, name!)
        assert.strictEqual(events[0]!.name, "search_started")
        const done = events.at(-1)!.data as { done: { seed: unknown; elapsed_ms: unknown; usage: object } }
        assert.strictEqual(done.done.seed, 5)
        assert.strictEqual(typeof done.done.elapsed_ms, "number")
        assert.property(done.done.usage, "prompt_tokens")

        const judges = (yield* getJson(`${url}/v1/judges`)) as {
          default_judge: string
          judges: ReadonlyArray<{ is_default: boolean; capabilities: object }>
        }
        assertConvention("/v1/judges", judges)
        assert.strictEqual(judges.judges.filter((judge) => judge.is_default).length, 1)
        assert.property(judges.judges[0]!.capabilities, "constrained_choice")
        assertConvention("/v1/describe", yield* getJson(`${url}/v1/describe`))

        for (const path of ["/health", "/ready"]) {
          const report = (yield* getJson(`${url}${path}`)) as { pools: Record<string, { servers: object }> }
          // Pool names are the operator's, kept as written.
          assertConvention(path, report, ["pools"])
          assert.hasAllKeys(report.pools.generator!.servers, ["up", "down", "key_refused", "model_missing"])
        }

        const refused = yield* postJson(`${url}/v1/chat/completions`, {
          model: MODEL,
          messages,
          stagebeam: { candidates: "many" },
        })
        assertConvention("an error", refused)
        assert.hasAllKeys((refused as { error: object }).error, ["message", "type", "param", "code"])
      }),
    120_000,
  )
})
