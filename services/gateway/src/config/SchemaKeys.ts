import type { SchemaAST } from "effect"

/**
 * What the settings schema itself says about keys: which keys exist at a path (for "did you mean" on an unknown
 * key) and every leaf setting (for the environment variables). Derived from the schema's AST, so a key another
 * module adds to the schema is known here without a second list.
 */

/** The object nodes a node stands for: itself, a union's object members, a suspended schema's target. */
const objectsOf = (ast: SchemaAST.AST): ReadonlyArray<SchemaAST.Objects> => {
  switch (ast._tag) {
    case "Objects":
      return [ast]
    case "Union":
      return ast.types.flatMap(objectsOf)
    case "Suspend":
      return objectsOf(ast.thunk())
    default:
      return []
  }
}

/** The node a key leads to under `ast` (a struct's field, or a record's value for any key). */
const childOf = (ast: SchemaAST.AST, key: PropertyKey): ReadonlyArray<SchemaAST.AST> =>
  objectsOf(ast).flatMap((objects) => {
    const field = objects.propertySignatures.find((signature) => signature.name === key)
    if (field !== undefined) return [field.type]
    return objects.indexSignatures.map((signature) => signature.type)
  })

/** The keys a schema knows at `path` (field names of the struct there); empty where any key goes (a record). */
export const knownKeysAt = (ast: SchemaAST.AST, path: ReadonlyArray<PropertyKey>): ReadonlyArray<string> => {
  let nodes: ReadonlyArray<SchemaAST.AST> = [ast]
  for (const key of path) nodes = nodes.flatMap((node) => childOf(node, key))
  const keys = nodes.flatMap(objectsOf).flatMap((objects) => objects.propertySignatures.map((s) => String(s.name)))
  return [...new Set(keys)]
}

/**
 * Every leaf setting's path, through structs only: a record (pools, judges) has no fixed keys to name a variable
 * after, and a struct-valued leaf that is a record (capabilities, options) is not a single value.
 */
export const leafPaths = (
  ast: SchemaAST.AST,
  prefix: ReadonlyArray<string> = [],
): ReadonlyArray<ReadonlyArray<string>> =>
  objectsOf(ast).flatMap((objects) =>
    objects.propertySignatures.flatMap((signature) => {
      const path = [...prefix, String(signature.name)]
      const structs = objectsOf(signature.type)
      if (structs.length === 0) return [path]
      return structs.some((s) => s.propertySignatures.length > 0) ? leafPaths(signature.type, path) : []
    }),
  )

/** Edit distance (insertions, deletions, substitutions), case-insensitive. */
const distance = (a: string, b: string): number => {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j)
  for (let i = 1; i <= x.length; i++) {
    const current = [i]
    for (let j = 1; j <= y.length; j++) {
      const substitution = previous[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1)
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution))
    }
    previous = current
  }
  return previous[y.length]!
}

/** The known word nearest to `word`, if one is near enough to be a likely misspelling (or a prefix/plural of it). */
export const nearest = (word: string, known: ReadonlyArray<string>): string | undefined => {
  let best: { readonly word: string; readonly distance: number } | undefined
  for (const candidate of known) {
    const d = distance(word, candidate)
    if (best === undefined || d < best.distance) best = { word: candidate, distance: d }
  }
  if (best === undefined) return undefined
  const close = best.distance <= Math.max(2, Math.floor(Math.max(word.length, best.word.length) / 3))
  const contained = word.length >= 3 && best.word.toLowerCase().includes(word.toLowerCase())
  return close || contained ? best.word : undefined
}
