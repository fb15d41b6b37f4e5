import { execFileSync } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1"
import { GatewaySettings, serveGateway } from "@stagebeam/gateway"
import { makeReasonerClient } from "@stagebeam/proto"
import { Effect } from "effect"
import sharp from "sharp"
import { stringify } from "yaml"
import { finder, render } from "./kustomize.ts"

const find = finder(render("gpu"))
const rule = find("PrometheusRule", "stagebeam-gateway")
const dashboard = JSON.parse(find("ConfigMap", "stagebeam-dashboard").data["stagebeam-gateway.json"])

const dashboardQueries: ReadonlyArray<string> = dashboard.panels.flatMap(
  (panel: { targets: Array<{ expr: string }> }) => panel.targets.map((target) => target.expr),
)
const ruleQueries: ReadonlyArray<string> = rule.spec.groups.flatMap((group: { rules: Array<{ expr: string }> }) =>
  group.rules.map((r) => r.expr),
)

/** The metric names a PromQL query reads (the gateway's families; functions and labels are not metric names). */
const metricsOf = (query: string) =>
  [...query.matchAll(/\b((?:stagebeam|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]!)

/** Series of a Prometheus text exposition: `name{labels}` → value. */
const parseExposition = (text: string) =>
  new Map(
    text
      .split("\n")
      .filter((line) => line !== "" && !line.startsWith("#"))
      .map((line) => {
        const at = line.lastIndexOf(" ")
        return [line.slice(0, at), Number(line.slice(at + 1))] as const
      }),
  )

/** The sum of the series of `name` whose labels include every `labels` pair. */
const total = (series: ReadonlyMap<string, number>, name: string, labels: Record<string, string> = {}) =>
  [...series]
    .filter(([key]) => key === name || key.startsWith(`${name}{`))
    .filter(([key]) => Object.entries(labels).every(([label, value]) => key.includes(`${label}="${value}"`)))
    .reduce((sum, [, value]) => sum + value, 0)

describe("monitoring kit (deploy/k8s/components/monitoring)", () => {
  it("the PrometheusRule validates against its schema and promtool accepts its rules", () => {
    new PrometheusRule(rule).validate()
    assert.isAbove(ruleQueries.length, 5)
    const file = join(mkdtempSync(join(tmpdir(), "stagebeam-rules-")), "rules.yaml")
    writeFileSync(file, stringify(rule.spec))
    // promtool comes from Debian's prometheus package (setup-promtool.sh installs it).
    const output = execFileSync("promtool", ["check", "rules", file], { encoding: "utf8" })
    assert.include(output, `SUCCESS: ${ruleQueries.length} rules found`)
    // A broken rule is refused: the check can fail.
    const broken = join(mkdtempSync(join(tmpdir(), "stagebeam-rules-")), "broken.yaml")
    writeFileSync(broken, stringify({ groups: [{ name: "x", rules: [{ alert: "X", expr: "sum(rate(" }] }] }))
    assert.throws(() => execFileSync("promtool", ["check", "rules", broken], { stdio: "pipe" }))
  })

  it.live(
    "every metric the dashboard and the rules name is exported by a running gateway; the new counters move as calls run",
    () =>
      Effect.gen(function* () {
        const gateway = yield* serveGateway.pipe(Effect.provide(GatewaySettings.layerTest()))
        const scrape = Effect.promise(() => fetch(gateway.metricsUrl).then((response) => response.text()))
        const before = parseExposition(yield* scrape)
        const client = yield* makeReasonerClient({ address: gateway.address, defaultDeadline: "60 seconds" })
        const data = yield* Effect.promise(() =>
          sharp({ create: { width: 64, height: 48, channels: 3, background: "#3366cc" } })
            .png()
            .toBuffer(),
        )
        const question = "Which colour dominates?\nA. blue\nB. red"
        yield* client.Reason({ question, image: { data }, search: { strategy: "STRATEGY_GREEDY" } })
        yield* client.Reason({ question, image: { data }, search: { candidatesPerStage: 2, seed: "1" } })
        // A token budget this small cuts the search short: it answers with what it found.
        const cut = yield* client.Reason({
          question,
          image: { data },
          search: { candidatesPerStage: 4, seed: "4", tokenBudget: "600" },
        })
        assert.strictEqual(cut.truncatedReason, "BUDGET")
        const after = parseExposition(yield* scrape)
        const moved = (name: string, labels: Record<string, string> = {}) =>
          total(after, name, labels) - total(before, name, labels)

        assert.isAbove(
          moved("stagebeam_search_tokens_total", { strategy: "STAGE_BEAM", n: "2", type: "completion" }),
          0,
        )
        assert.isAbove(
          moved("stagebeam_search_tokens_total", { strategy: "GREEDY", n: "1", judge: "none", type: "prompt" }),
          0,
        )
        assert.isAbove(moved("stagebeam_search_tokens_total", { judge: "self" }), 0)
        assert.isAbove(moved("stagebeam_search_tokens_total", { token: "anonymous" }), 0)
        assert.isAbove(moved("stagebeam_search_gpu_seconds_total", { strategy: "STAGE_BEAM", n: "4" }), 0)
        assert.strictEqual(moved("stagebeam_search_cut_short_total", { strategy: "STAGE_BEAM", reason: "BUDGET" }), 1)
        assert.strictEqual(moved("stagebeam_admission_wait_seconds_count"), 3)
        assert.isAbove(moved("stagebeam_upstream_calls_total", { pool: "generator", kind: "gen", outcome: "ok" }), 0)
        assert.isAbove(moved("stagebeam_upstream_calls_total", { pool: "generator", kind: "judge", outcome: "ok" }), 0)
        assert.strictEqual(moved("stagebeam_reason_calls_total", { outcome: "OK" }), 3)
        assert.strictEqual(total(after, "stagebeam_build_info", { version: "0.1.0" }), 1)
        assert.strictEqual(total(after, "stagebeam_health_serving"), 1)

        const exported = new Set([...after.keys()].map((key) => key.split("{")[0]!))
        const named = new Set([...dashboardQueries, ...ruleQueries].flatMap(metricsOf))
        assert.isAbove(named.size, 10)
        for (const query of [...dashboardQueries, ...ruleQueries]) {
          assert.isNotEmpty(metricsOf(query), `${query} names no metric of the gateway`)
        }
        for (const name of named) assert.isTrue(exported.has(name), `${name} is not exported by the gateway`)
      }).pipe(Effect.scoped),
    120_000,
  )
})
