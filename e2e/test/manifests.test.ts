import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1"
import { PodDisruptionBudget } from "kubernetes-models/policy/v1"
import { ConfigMap, Service } from "kubernetes-models/v1"
import { parse, parseAllDocuments } from "yaml"

const repo = join(import.meta.dirname, "../..")
const k8sDir = join(repo, "deploy/k8s")
const read = (path: string) => readFileSync(join(repo, path), "utf8")

/** The environment variables the gateway reads, from its Settings module. */
const gatewaySettings = new Set(
  [...read("services/gateway/src/config/Environment.ts").matchAll(/"(STAGEBEAM_[A-Z_]+)"/g)].map((m) => m[1]),
)

interface Manifest {
  readonly apiVersion: string
  readonly kind: string
  readonly metadata: { readonly name: string }
}

/** The kubernetes-models class that validates each kind used here against the Kubernetes OpenAPI schema. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
}

const validate = (manifest: Manifest) => {
  const Model = models[`${manifest.apiVersion}/${manifest.kind}`]
  if (Model === undefined) throw new Error(`no model for ${manifest.apiVersion} ${manifest.kind}`)
  new Model(manifest as never).validate()
}

const manifestFiles = readdirSync(k8sDir).filter((file) => file.endsWith(".yaml") && file !== "kustomization.yaml")
const manifests: ReadonlyArray<Manifest> = manifestFiles.flatMap((file) =>
  parseAllDocuments(readFileSync(join(k8sDir, file), "utf8")).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`)
    return doc.toJS() as Manifest
  }),
)
// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML; each one was validated by its model.
const find = (kind: string, name: string): any => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name)
  if (found === undefined) throw new Error(`no ${kind} ${name} in deploy/k8s`)
  return found
}

describe("Kubernetes manifests (deploy/k8s)", () => {
  it("each object validates against its Kubernetes schema", () => {
    assert.sameMembers(
      manifests.map((m) => `${m.kind}/${m.metadata.name}`),
      [
        "Service/vllm",
        "StatefulSet/vllm",
        "ConfigMap/stagebeam-gateway",
        "Deployment/stagebeam-gateway",
        "PodDisruptionBudget/stagebeam-gateway",
        "Service/stagebeam-gateway",
      ],
    )
    for (const manifest of manifests) validate(manifest)
    const kustomization = parse(readFileSync(join(k8sDir, "kustomization.yaml"), "utf8")) as {
      resources: Array<string>
    }
    assert.sameMembers(kustomization.resources, manifestFiles)
  })

  it("the validator refuses a malformed object", () => {
    const deployment = find("Deployment", "stagebeam-gateway")
    assert.throws(() => validate({ ...deployment, spec: { ...deployment.spec, replicas: "two" } }), /replicas/)
  })

  it("vLLM runs v0.10.2 with the model's flags on one GPU, behind a headless Service, ready on /health", () => {
    const vllm = find("StatefulSet", "vllm")
    const container = vllm.spec.template.spec.containers[0]
    assert.strictEqual(container.image, "vllm/vllm-openai:v0.10.2")
    for (const flag of [
      "--model=Xkev/Llama-3.2V-11B-cot",
      "--enforce-eager",
      "--max-num-seqs=16",
      "--max-model-len=8192",
      "--limit-mm-per-prompt=image=1",
    ]) {
      assert.include(container.args, flag)
    }
    assert.strictEqual(container.resources.limits["nvidia.com/gpu"], "1")
    assert.strictEqual(container.readinessProbe.httpGet.path, "/health")
    const service = find("Service", vllm.spec.serviceName)
    assert.strictEqual(service.spec.clusterIP, "None")
    assert.deepStrictEqual(service.spec.selector, vllm.spec.selector.matchLabels)
  })

  it("the gateway Deployment reads only settings the gateway knows, and lists every vLLM pod", () => {
    const gateway = find("Deployment", "stagebeam-gateway")
    const container = gateway.spec.template.spec.containers[0]
    const config = find("ConfigMap", container.envFrom[0].configMapRef.name)
    const names = [...Object.keys(config.data), ...(container.env ?? []).map((e: { name: string }) => e.name)]
    assert.isNotEmpty(names)
    for (const name of names) assert.isTrue(gatewaySettings.has(name), `${name} is not read by the gateway`)

    const vllm = find("StatefulSet", "vllm")
    const port = find("Service", vllm.spec.serviceName).spec.ports[0].port
    assert.deepStrictEqual(
      config.data.STAGEBEAM_ENDPOINTS.split(","),
      Array.from({ length: vllm.spec.replicas }, (_, i) => `http://vllm-${i}.${vllm.spec.serviceName}:${port}`),
    )
    assert.strictEqual(config.data.STAGEBEAM_MAX_SAMPLES_PER_REQUEST, "16") // vLLM's --max-num-seqs
  })

  it("the gateway's drain fits the pod's grace period, after its preStop", () => {
    const gateway = find("Deployment", "stagebeam-gateway")
    const pod = gateway.spec.template.spec
    const container = pod.containers[0]
    const config = find("ConfigMap", container.envFrom[0].configMapRef.name)
    const drainSeconds = Number(/^(\d+)s$/.exec(config.data.STAGEBEAM_DRAIN_TIMEOUT)?.[1])
    const preStopSeconds = container.lifecycle.preStop.sleep.seconds
    // One more second for the server's own stop after the drain, and a margin before the kubelet's SIGKILL.
    assert.isAtMost(preStopSeconds + drainSeconds + 1, pod.terminationGracePeriodSeconds - 2)
    assert.isAtLeast(drainSeconds, 30)
  })

  it("the gateway runs ≥ 2 replicas, ready by gRPC health of stagebeam.v1.Reasoner, with a PDB, a Service and metrics", () => {
    const gateway = find("Deployment", "stagebeam-gateway")
    const pod = gateway.spec.template
    const container = pod.spec.containers[0]
    const config = find("ConfigMap", container.envFrom[0].configMapRef.name)
    const grpcPort = Number(config.data.STAGEBEAM_GRPC_PORT)
    const metricsPort = Number(config.data.STAGEBEAM_METRICS_PORT)
    assert.isAtLeast(gateway.spec.replicas, 2)
    assert.deepStrictEqual(container.readinessProbe.grpc, { port: grpcPort, service: "stagebeam.v1.Reasoner" })
    assert.isDefined(container.livenessProbe)
    assert.isDefined(container.resources.requests.cpu)
    assert.isDefined(container.resources.limits.memory)
    assert.deepStrictEqual(
      container.ports.map((p: { containerPort: number }) => p.containerPort),
      [grpcPort, metricsPort],
    )
    assert.strictEqual(pod.metadata.annotations["prometheus.io/port"], String(metricsPort))
    assert.isTrue(pod.spec.securityContext.runAsNonRoot)

    const labels = gateway.spec.selector.matchLabels
    assert.deepStrictEqual(find("PodDisruptionBudget", "stagebeam-gateway").spec.selector.matchLabels, labels)
    assert.isAtLeast(find("PodDisruptionBudget", "stagebeam-gateway").spec.minAvailable, 1)
    const service = find("Service", "stagebeam-gateway")
    assert.deepStrictEqual(service.spec.selector, labels)
    assert.include(
      service.spec.ports.map((p: { port: number }) => p.port),
      grpcPort,
    )
  })
})

describe("compose file (deploy/compose.yaml)", () => {
  const text = read("deploy/compose.yaml")
  // biome-ignore lint/suspicious/noExplicitAny: untyped YAML, checked field by field below.
  const compose: any = parse(text, { merge: true })

  it("runs the gateway over two simulators on the host network, with settings the gateway reads", () => {
    assert.sameMembers(Object.keys(compose.services), ["sim-1", "sim-2", "gateway"])
    for (const service of Object.values(compose.services) as Array<{ network_mode: string }>) {
      assert.strictEqual(service.network_mode, "host")
    }
    const environment: Record<string, string> = compose.services.gateway.environment
    for (const name of Object.keys(environment))
      assert.isTrue(gatewaySettings.has(name), `${name} is not read by the gateway`)
    const simulatorPorts = ["sim-1", "sim-2"].map((name) => {
      const command: Array<string> = compose.services[name].command
      assert.strictEqual(command[0], "services/vllm-sim/bin/vllm-sim.js")
      return command[command.indexOf("--port") + 1]
    })
    assert.deepStrictEqual(
      environment.STAGEBEAM_ENDPOINTS?.split(","),
      simulatorPorts.map((port) => `http://127.0.0.1:${port}`),
    )
  })

  it("documents the GPU variant with vLLM v0.10.2, the model's flags and a GPU reservation", () => {
    for (const needle of [
      "vllm/vllm-openai:v0.10.2",
      "--enforce-eager --max-num-seqs 16 --max-model-len 8192 --limit-mm-per-prompt image=1",
      "capabilities: [gpu]",
    ]) {
      assert.include(text, needle)
    }
  })
})
