import type { ServerResponse } from "node:http"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { ASSUMED, poolCapabilities } from "../src/Capabilities.ts"
import { OpenAiClient } from "../src/OpenAiClient.ts"
import { probeServer } from "../src/Probe.ts"
import { completion, fakeServer, json, type Seen } from "./fakeServer.ts"

const models = (ownedBy: string, extra: Record<string, unknown> = {}) => ({
  object: "list",
  data: [{ id: "m", object: "model", owned_by: ownedBy, ...extra }],
})

/** An OpenAI-compatible server of no known kind; `capable` decides whether it honours n, stop, logprobs and choices. */
const unknownServer = (capable: boolean) => (request: Seen, response: ServerResponse) => {
  if (request.path === "/v1/models") return json(response, 200, models("someone"))
  if (request.path !== "/v1/chat/completions") return json(response, 404, { detail: "Not Found" })
  const body = request.body as { n?: number; stop?: Array<string>; structured_outputs?: { choice: Array<string> } }
  const text =
    capable && body.structured_outputs !== undefined ? body.structured_outputs.choice[0]! : "hello there friend"
  const stopped = capable && body.stop?.includes(" ") ? text.split(" ")[0]! : text
  const n = capable ? (body.n ?? 1) : 1
  const logprobs = capable ? { content: [{ token: "hello", logprob: -0.1, top_logprobs: [] }] } : null
  return json(response, 200, completion(Array(n).fill(stopped), { usage: capable, choice: { logprobs } }))
}

/** The first of the choices the request constrains to with `field`, else `text` (the field ignored). */
const constrainedOr = (request: Seen, field: "guided_choice" | "structured_outputs" | "none", text: string) => {
  const body = request.body as { guided_choice?: Array<string>; structured_outputs?: { choice: Array<string> } }
  const choices =
    field === "guided_choice"
      ? body.guided_choice
      : field === "structured_outputs"
        ? body.structured_outputs?.choice
        : undefined
  return choices?.[0] ?? text
}

/** The priority probe's requests (the choice-field probe's carry no priority). */
const priorityPosts = (seen: ReadonlyArray<Seen>) =>
  seen.filter((s) => s.method === "POST" && (s.body as { priority?: number }).priority !== undefined).length

const probe = (url: string) => probeServer({ pool: "judge", server: url, model: "m", apiKey: undefined })

describe("probing a server when it joins", () => {
  it.live(
    "knows vLLM by /version and SGLang by owned_by, from their documentation; asks vLLM about priority and its choice field",
    () =>
      Effect.gen(function* () {
        // vLLM 0.12 honours structured_outputs; without --scheduling-policy priority a non-zero priority is a 400.
        const vllmServer = (policy: "fcfs" | "priority") =>
          fakeServer((request, response) =>
            request.path === "/version"
              ? json(response, 200, { version: "0.12.0" })
              : request.path === "/v1/chat/completions"
                ? policy === "priority" || (request.body as { priority?: number }).priority === undefined
                  ? json(
                      response,
                      200,
                      completion([constrainedOr(request, "structured_outputs", "Hello")], { usage: true }),
                    )
                  : json(response, 400, {
                      error: {
                        message: "Got priority -1 but Priority scheduling is not enabled.",
                        type: "BadRequestError",
                      },
                    })
                : json(response, 200, models("vllm", { max_model_len: 8192 })),
          )
        const vllm = yield* vllmServer("fcfs")
        const byPriority = yield* vllmServer("priority")
        const sglang = yield* fakeServer((request, response) =>
          request.path === "/v1/models"
            ? json(response, 200, models("sglang", { max_model_len: 4096 }))
            : json(response, 404, {}),
        )
        const v = yield* probe(vllm.url)
        const s = yield* probe(sglang.url)
        assert.deepStrictEqual(v, {
          _tag: "Profiled",
          profile: {
            kind: "vllm",
            version: "0.12.0",
            capabilities: { ...ASSUMED, constrainedChoice: "structured_outputs", maxContext: 8192 },
          },
        })
        assert.strictEqual(s._tag === "Profiled" && s.profile.kind, "sglang")
        assert.strictEqual(s._tag === "Profiled" && s.profile.capabilities.constrainedChoice, "none")
        const p = yield* probe(byPriority.url)
        assert.isTrue(p._tag === "Profiled" && p.profile.capabilities.priority)
        // Two POSTs for vLLM (the priority question, one token; the choice field its version suggests, four), none
        // for SGLang.
        for (const server of [vllm, byPriority]) {
          const posts = server.seen.filter((seen) => seen.method === "POST")
          assert.deepStrictEqual(
            posts.map((seen) => {
              const body = seen.body as { priority?: number; structured_outputs?: unknown; guided_choice?: unknown }
              return [seen.path, body.priority ?? (body.structured_outputs ? "structured_outputs" : "guided_choice")]
            }),
            [
              ["/v1/chat/completions", -1],
              ["/v1/chat/completions", "structured_outputs"],
            ],
          )
        }
        assert.isFalse(sglang.seen.some((seen) => seen.method === "POST"))
        const old = yield* fakeServer((request, response) =>
          request.path === "/version" ? json(response, 200, { version: "0.9.2" }) : json(response, 200, models("vllm")),
        )
        const o = yield* probe(old.url)
        assert.strictEqual(o._tag === "Profiled" && o.profile.capabilities.constrainedChoice, "guided_choice")
      }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("decides a vLLM server's choice field by its answers, the version only guessing first", () =>
    Effect.gen(function* () {
      // Like vLLM 0.10.2 (protocol.py has guided_choice, ignores structured_outputs with 200), whatever its version says.
      const server = (version: string, honours: "guided_choice" | "structured_outputs" | "none") =>
        fakeServer((request, response) =>
          request.path === "/version"
            ? json(response, 200, { version })
            : request.path === "/v1/chat/completions"
              ? json(response, 200, completion([constrainedOr(request, honours, "Since the")], { usage: true }))
              : json(response, 200, models("vllm")),
        )
      const choiceOf = (outcome: Effect.Success<ReturnType<typeof probe>>) =>
        outcome._tag === "Profiled"
          ? [outcome.profile.capabilities.constrainedChoice, outcome.profile.capabilities.ignoredFields ?? []]
          : undefined
      assert.deepStrictEqual(choiceOf(yield* probe((yield* server("0.10.2", "guided_choice")).url)), [
        "guided_choice",
        [],
      ])
      // A version that claims 0.12 but a server that takes only guided_choice: the answer wins, the ignored field is named.
      assert.deepStrictEqual(choiceOf(yield* probe((yield* server("0.12.0", "guided_choice")).url)), [
        "guided_choice",
        ["structured_outputs"],
      ])
      assert.deepStrictEqual(choiceOf(yield* probe((yield* server("0.11.0", "none")).url)), [
        "none",
        ["structured_outputs", "guided_choice"],
      ])
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("asks vLLM about priority again after a transient failure, not after a refusal", () =>
    Effect.gen(function* () {
      // A priority server whose first answers are 503 (busy, or its engine restarting), then 200.
      let failures = 2
      const flaky = yield* fakeServer((request, response) => {
        if (request.path === "/version") return json(response, 200, { version: "0.12.0" })
        if (request.path !== "/v1/chat/completions") return json(response, 200, models("vllm"))
        if (failures-- > 0) return json(response, 503, { error: { message: "Service Unavailable" } })
        return json(response, 200, completion(["Hello"], { usage: true }))
      })
      const p = yield* probe(flaky.url)
      assert.isTrue(p._tag === "Profiled" && p.profile.capabilities.priority)
      assert.strictEqual(priorityPosts(flaky.seen), 3)
      // One that never answers anything but 503 is left without priority after a few tries, not probed forever.
      const down = yield* fakeServer((request, response) =>
        request.path === "/version"
          ? json(response, 200, { version: "0.12.0" })
          : request.path === "/v1/chat/completions"
            ? json(response, 503, { error: { message: "Service Unavailable" } })
            : json(response, 200, models("vllm")),
      )
      const d = yield* probe(down.url)
      assert.isTrue(d._tag === "Profiled" && !d.profile.capabilities.priority)
      assert.strictEqual(priorityPosts(down.seen), 4)
      // A refusal other than vLLM's 400 (here a proxy's 422) is an answer too: asked once.
      const refusing = yield* fakeServer((request, response) =>
        request.path === "/version"
          ? json(response, 200, { version: "0.12.0" })
          : request.path === "/v1/chat/completions"
            ? json(response, 422, { detail: "priority: extra fields not permitted" })
            : json(response, 200, models("vllm")),
      )
      const r = yield* probe(refusing.url)
      assert.isTrue(r._tag === "Profiled" && !r.profile.capabilities.priority)
      assert.strictEqual(priorityPosts(refusing.seen), 1)
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("finds out what a server of unknown kind does with n, usage, logprobs, stop and choice fields", () =>
    Effect.gen(function* () {
      const capable = yield* probe((yield* fakeServer(unknownServer(true))).url)
      const minimal = yield* probe((yield* fakeServer(unknownServer(false))).url)
      assert.strictEqual(capable._tag, "Profiled")
      assert.strictEqual(minimal._tag, "Profiled")
      if (capable._tag !== "Profiled" || minimal._tag !== "Profiled") return
      assert.strictEqual(capable.profile.kind, "openai-compatible")
      assert.include(capable.profile.capabilities, {
        n: true,
        usage: true,
        logprobs: true,
        stop: true,
        constrainedChoice: "structured_outputs",
        continuation: false,
      })
      assert.include(minimal.profile.capabilities, {
        n: false,
        usage: false,
        logprobs: false,
        stop: false,
        constrainedChoice: "none",
        continuation: false,
      })
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )

  it.live("says when the model is not served (with the names offered), the key is refused, or nothing answers", () =>
    Effect.gen(function* () {
      const other = yield* fakeServer((_, response) =>
        json(response, 200, { data: [{ id: "Qwen/Qwen2.5-VL-7B-Instruct" }, { id: "llava" }] }),
      )
      const locked = yield* fakeServer((_, response) => json(response, 401, { error: "Unauthorized" }))
      assert.deepStrictEqual(yield* probe(other.url), {
        _tag: "ModelMissing",
        offered: ["Qwen/Qwen2.5-VL-7B-Instruct", "llava"],
      })
      assert.deepStrictEqual(yield* probe(locked.url), { _tag: "KeyRefused", status: 401 })
      assert.deepStrictEqual(yield* probe("http://127.0.0.1:1"), { _tag: "Unreachable" })
    }).pipe(Effect.provide(OpenAiClient.layer)),
  )
})

describe("a pool's capabilities", () => {
  it("hold when every profiled server has them; what the settings declare wins", () => {
    const minimal = { ...ASSUMED, n: false, continuation: false, constrainedChoice: "none" as const, maxContext: 4096 }
    const vllm = { ...ASSUMED, maxContext: 8192 }
    assert.deepStrictEqual(poolCapabilities([]), ASSUMED)
    assert.include(poolCapabilities([vllm, minimal]), {
      n: false,
      continuation: false,
      constrainedChoice: "none",
      maxContext: 4096,
    })
    assert.include(poolCapabilities([minimal], { continuation: true, n: undefined }), { continuation: true, n: false })
  })
})
