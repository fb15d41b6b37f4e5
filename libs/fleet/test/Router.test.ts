import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { recordFailure, recordSuccess } from "../src/Membership.ts"
import { type EndpointState, initialState, pickEndpoint, type RoutingOptions, spareSequences } from "../src/Router.ts"

const state = (url: string, inFlight: number, extra: Partial<EndpointState> = {}): EndpointState => ({
  ...initialState(url),
  inFlight,
  ...extra,
})

describe("pickEndpoint", () => {
  it("picks the server with the fewest sequences in flight", () => {
    const picked = pickEndpoint([state("a", 5), state("b", 1), state("c", 3)], 0, new Set(), () => 0)
    expect(picked?.url).toBe("b")
  })

  it.each([
    // [a's sequences, a's short calls, b's sequences, b's short calls, short call?, picked]
    [5, 1, 8, 0, true, "b"], // a verdict waits behind a's verdict's prefill, not behind b's batch
    [5, 1, 8, 0, false, "a"], // a long call weighs the batch
    [5, 0, 8, 0, true, "a"], // no short calls anywhere: the least-loaded
    [5, 2, 8, 1, true, "b"],
  ] as const)("sequences %i/%i short on a, %i/%i on b, short %s: %s", (aSeq, aShort, bSeq, bShort, short, picked) => {
    const states = [state("a", aSeq, { inFlightShort: aShort }), state("b", bSeq, { inFlightShort: bShort })]
    expect(pickEndpoint(states, 0, new Set(), () => 0, undefined, 0, undefined, short)?.url).toBe(picked)
  })

  it("never picks a server that is down while another is up", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ load: fc.nat(20), healthy: fc.boolean(), down: fc.boolean() }), { minLength: 1 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (servers, tieBreak) => {
          const states = servers.map((s, i) =>
            state(`s${i}`, s.load, { healthy: s.healthy, downUntil: s.down ? 100 : 0 }),
          )
          const picked = pickEndpoint(states, 50, new Set(), () => tieBreak)
          const up = states.filter((s) => s.healthy && s.downUntil <= 50)
          if (up.length === 0) return picked === undefined
          return (
            picked !== undefined && up.includes(picked) && picked.inFlight === Math.min(...up.map((s) => s.inFlight))
          )
        },
      ),
    )
  })

  it("prefers servers this call has not tried yet, but falls back to them", () => {
    expect(pickEndpoint([state("a", 0), state("b", 9)], 0, new Set(["a"]), () => 0)?.url).toBe("b")
    expect(pickEndpoint([state("a", 0)], 0, new Set(["a"]), () => 0)?.url).toBe("a")
  })

  it("takes a server out for the cooldown after repeated failures, and back after a success", () => {
    const once = recordFailure(initialState("a"), 1000, 2, 500)
    expect(once.downUntil).toBe(0)
    const twice = recordFailure(once, 1000, 2, 500)
    expect(twice.downUntil).toBe(1500)
    expect(pickEndpoint([twice], 1200, new Set(), () => 0)).toBeUndefined()
    expect(pickEndpoint([twice], 1500, new Set(), () => 0)?.url).toBe("a")
    expect(recordSuccess(twice).downUntil).toBe(0)
  })

  it("a server on probation (back from an ejection) takes one call at a time", () => {
    const probation = { ...state("a", 0), probation: true }
    expect(pickEndpoint([probation], 0, new Set(), () => 0)?.url).toBe("a")
    expect(pickEndpoint([{ ...probation, inFlightRequests: 1 }, state("b", 50)], 0, new Set(), () => 0)?.url).toBe("b")
  })

  it("a leaving server takes no new calls, and a joining one ramps up over its slow start", () => {
    expect(pickEndpoint([{ ...state("a", 0), leaving: true }, state("b", 9)], 0, new Set(), () => 0)?.url).toBe("b")
    const routing = { policy: "least-loaded" as const, slowStartMs: 10_000 }
    const fresh = { ...state("new", 0), joinedAtMs: 1_000 }
    // A second after joining it counts as a tenth of a server: an idle one looks as busy as one with 9 in flight.
    expect(pickEndpoint([fresh, state("old", 5)], 2_000, new Set(), () => 0, routing)?.url).toBe("old")
    expect(pickEndpoint([fresh, state("old", 5)], 11_000, new Set(), () => 0, routing)?.url).toBe("new")
  })

  it("p2c picks the less loaded of two drawn; round-robin takes turns", () => {
    const servers = [state("a", 9), state("b", 1), state("c", 5)]
    const draws =
      (...values: Array<number>) =>
      () =>
        values.shift() ?? 0
    const p2c = { policy: "p2c" as const, slowStartMs: 0 }
    expect(pickEndpoint(servers, 0, new Set(), draws(0, 0.5), p2c)?.url).toBe("b")
    expect(pickEndpoint(servers, 0, new Set(), draws(0, 0.9), p2c)?.url).toBe("c")
    const rr = { policy: "round-robin" as const, slowStartMs: 0 }
    expect([0, 1, 2, 3].map((turn) => pickEndpoint(servers, 0, new Set(), () => 0, rr, turn)?.url)).toEqual([
      "a",
      "b",
      "c",
      "a",
    ])
  })
})

describe("affinity", () => {
  const routing: RoutingOptions = { policy: "least-loaded", slowStartMs: 0, affinityMaxImbalance: 4 }
  const servers = ["http://a", "http://b", "http://c", "http://d"]
  const pick = (loads: ReadonlyArray<number>, key: string, options: RoutingOptions = routing) =>
    pickEndpoint(
      servers.map((url, i) => state(url, loads[i] ?? 0)),
      0,
      new Set(),
      () => 0,
      options,
      0,
      key,
    )?.url

  it("keeps a key on one server while loads are even, and spreads keys over the servers", () => {
    const owners = Array.from({ length: 200 }, (_, i) => pick([0, 0, 0, 0], `search ${i}`))
    for (let i = 0; i < 200; i++) expect(pick([1, 2, 0, 1], `search ${i}`)).toBe(owners[i])
    const shares = servers.map((url) => owners.filter((owner) => owner === url).length)
    for (const share of shares) expect(share).toBeGreaterThan(25)
  })

  it.each([
    { name: "within the imbalance", loads: 4, follows: true },
    { name: "past the imbalance", loads: 5, follows: false },
  ])("a busy owner keeps its key $name", ({ loads, follows }) => {
    const owner = pick([0, 0, 0, 0], "q")!
    const busy = servers.map((url) => (url === owner ? loads : 0))
    expect(pick(busy, "q") === owner).toBe(follows)
  })

  it("keeps its key when another server leaves (rendezvous hashing), and is off without the setting", () => {
    const owner = pick([0, 0, 0, 0], "question")!
    const others = servers.filter((url) => url !== owner)
    const fewer = pickEndpoint(
      [owner, ...others.slice(1)].map((url) => state(url, 0)),
      0,
      new Set(),
      () => 0,
      routing,
      0,
      "question",
    )
    expect(fewer?.url).toBe(owner)
    const loads = servers.map((url) => (url === owner ? 1 : 0))
    expect(
      pick(loads, "question", { policy: "least-loaded", slowStartMs: 0, affinityMaxImbalance: undefined }),
    ).not.toBe(owner)
  })
})

describe("spareSequences", () => {
  it("sums what each server could start before its max_num_seqs fill, less the reserve", () => {
    expect(spareSequences([state("a", 0), state("b", 0)], 0, 16)).toBe(32)
    expect(spareSequences([state("a", 10), state("b", 20)], 0, 16)).toBe(6)
    expect(spareSequences([state("a", 10), state("b", 0)], 0, 16, 4)).toBe(2 + 12)
  })

  it("counts a fresh report's foreign running requests and its queue (double), and skips servers that are down", () => {
    const reported = state("a", 2, {
      reported: { running: 6, waiting: 1, kvUsage: 0.1 },
      reportedAtMs: 1000,
      ownAtReport: 2,
    })
    // 2 own + 4 foreign + 2 × 1 waiting = 8 of 16.
    expect(spareSequences([reported], 1000, 16)).toBe(8)
    const down = state("b", 0, { healthy: false })
    expect(spareSequences([reported, down], 1000, 16)).toBe(8)
  })
})
