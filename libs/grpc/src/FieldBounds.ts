import type * as protoLoader from "@grpc/proto-loader"
import { forEachDelimitedField } from "./WireFormat.ts"

/**
 * A bound on one string, bytes or message field of a request, checked on the wire before the request is decoded:
 * protobufjs turns a 20 MB string into a JavaScript string on the event loop (and a schema's error then quotes it)
 * before any handler could refuse it by length.
 */
export interface FieldBound {
  /** The most bytes the field's value may take on the wire (a string's UTF-8). */
  readonly maxBytes: number
  /**
   * What the value must be, for the error ("a value with a length of at most 16384", as the handler's schema says
   * it); without it, "at most <maxBytes> bytes".
   */
  readonly expected?: string
}

/**
 * Bounds by field path, "question" or "judge.name": each segment as the .proto spells it (snake_case) or as the
 * loader renamed it (camelCase).
 */
export type FieldBounds = Readonly<Record<string, FieldBound>>

/** The bounds of one message by field number; a nested message's fields under its field. */
export interface BoundFields {
  readonly byNumber: ReadonlyMap<number, BoundField>
}

interface BoundField {
  /** The path as the bounds name it, for the error. */
  readonly path: string
  readonly bound: FieldBound | undefined
  readonly nested: BoundFields | undefined
}

/** A field over its bound: the path the bounds gave and the error's message. */
export interface OversizedField {
  readonly field: string
  readonly message: string
}

/** The parts of a DescriptorProto (proto-loader's message `type`) the bounds need. */
interface MessageDescriptor {
  readonly name?: string
  readonly field?: ReadonlyArray<{
    readonly name: string
    readonly number: number
    readonly type: string
    readonly typeName?: string
  }>
}

const DELIMITED = new Set(["TYPE_STRING", "TYPE_BYTES", "TYPE_MESSAGE"])

const camelCase = (name: string) => name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase())

const descriptorOf = (definition: protoLoader.AnyDefinition | undefined): MessageDescriptor | undefined =>
  definition !== undefined && "format" in definition && definition.format === "Protocol Buffer 3 DescriptorProto"
    ? (definition.type as MessageDescriptor)
    : undefined

/** "a.b.C" → ["a.b.C", "a.b", "a", ""]: where protobuf looks up a type name written inside `scope`. */
const scopesOf = (scope: string): Array<string> => {
  const parts = scope.split(".")
  return Array.from({ length: parts.length + 1 }, (_, i) => parts.slice(0, parts.length - i).join("."))
}

/** A message type as a field names it (relative to the enclosing message and package, or absolute with a dot). */
const findMessage = (
  packageDefinition: protoLoader.PackageDefinition,
  typeName: string,
  scope: string,
): { readonly fullName: string; readonly descriptor: MessageDescriptor } | undefined => {
  const candidates = typeName.startsWith(".")
    ? [typeName.slice(1)]
    : scopesOf(scope).map((prefix) => (prefix === "" ? typeName : `${prefix}.${typeName}`))
  for (const fullName of candidates) {
    const descriptor = descriptorOf(packageDefinition[fullName])
    if (descriptor !== undefined) return { fullName, descriptor }
  }
  return undefined
}

/** The bounds being resolved, one level of fields. */
type Level = Map<number, { readonly path: string; bound: FieldBound | undefined; readonly nested: Level }>

/**
 * The bounds of a method's request resolved to field numbers against its descriptor; a string naming the first
 * path that is no string, bytes or message field of the request (a settings mistake, told at start).
 */
export const resolveFieldBounds = (
  packageDefinition: protoLoader.PackageDefinition,
  serviceName: string,
  method: protoLoader.MethodDefinition<object, object>,
  bounds: FieldBounds,
): BoundFields | string => {
  const request = descriptorOf(method.requestType)
  if (request === undefined) return "the request has no message descriptor"
  const packageName = serviceName.split(".").slice(0, -1).join(".")
  const requestName = packageName === "" ? (request.name ?? "") : `${packageName}.${request.name ?? ""}`
  const tree: Level = new Map()
  for (const [path, bound] of Object.entries(bounds)) {
    if (!(bound.maxBytes >= 0)) return `${path}: maxBytes must be a number of bytes`
    let message: MessageDescriptor = request
    let scope = requestName
    let level = tree
    const segments = path.split(".")
    for (const [index, segment] of segments.entries()) {
      const field = message.field?.find(
        (candidate) => candidate.name === segment || candidate.name === camelCase(segment),
      )
      if (field === undefined || !DELIMITED.has(field.type)) {
        return `${path}: ${segment} is no string, bytes or message field of ${message.name ?? "the request"}`
      }
      const last = index === segments.length - 1
      const node = level.get(field.number) ?? {
        path: segments.slice(0, index + 1).join("."),
        bound: undefined,
        nested: new Map() as Level,
      }
      level.set(field.number, node)
      if (last) {
        node.bound = bound
        break
      }
      if (field.type !== "TYPE_MESSAGE") return `${path}: ${segment} is not a message`
      const nested = findMessage(packageDefinition, field.typeName ?? "", scope)
      if (nested === undefined) return `${path}: the type ${field.typeName} of ${segment} is not in the package`
      message = nested.descriptor
      scope = nested.fullName
      level = node.nested
    }
  }
  const freeze = (level: Level): BoundFields => ({
    byNumber: new Map(
      [...level].map(([number, node]) => [
        number,
        {
          path: node.path,
          bound: node.bound,
          nested: node.nested.size === 0 ? undefined : freeze(node.nested),
        },
      ]),
    ),
  })
  return freeze(tree)
}

/**
 * The first field of the request bytes longer than its bound, found by reading lengths only (nothing is decoded, so
 * the cost is one pass over the fields, whatever their size); undefined when every bounded field fits.
 */
export const oversizedField = (bytes: Uint8Array, bounds: BoundFields): OversizedField | undefined => {
  let found: OversizedField | undefined
  const walk = (level: BoundFields, from: number, to: number) =>
    forEachDelimitedField(
      bytes,
      (number, start, end) => {
        const field = level.byNumber.get(number)
        if (field === undefined) return false
        const length = end - start
        if (field.bound !== undefined && length > field.bound.maxBytes) {
          const expected = field.bound.expected ?? `at most ${field.bound.maxBytes} bytes`
          found = { field: field.path, message: `Expected ${expected}, got ${length} bytes` }
          return true
        }
        if (field.nested !== undefined) walk(field.nested, start, end)
        return found !== undefined
      },
      from,
      to,
    )
  walk(bounds, 0, bytes.length)
  return found
}
