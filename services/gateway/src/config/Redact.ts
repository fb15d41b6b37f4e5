import { Predicate, Schema } from "effect"
import { stringify } from "yaml"
import { Settings } from "./Settings.ts"

/**
 * The settings as an operator reads them, secrets hidden. The schema already keeps secrets out (API keys are named
 * by variable or file, URLs may not carry credentials); what a custom judge's free-form `options` or a URL's query
 * may still hold is hidden by its key's name.
 */

const SECRET_KEY = /key|token|secret|password|credential|auth/i
const REDACTED = "<redacted>"

/** A URL's query values may be tokens (`?api_key=`): kept by name, values hidden. */
const redactUrl = (text: string): string => {
  if (!/^https?:\/\//.test(text)) return text
  try {
    const url = new URL(text)
    if (url.search === "") return text
    for (const name of [...url.searchParams.keys()]) url.searchParams.set(name, REDACTED)
    return url.toString()
  } catch {
    return text
  }
}

/** Free-form values (a custom judge's options): any key that names a secret is hidden, at any depth. */
const redactFreeForm = (value: unknown, key: string): unknown => {
  if (SECRET_KEY.test(key) && value !== undefined && value !== null && typeof value !== "boolean") return REDACTED
  if (typeof value === "string") return redactUrl(value)
  if (Array.isArray(value)) return value.map((item) => redactFreeForm(item, key))
  if (Predicate.isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, redactFreeForm(inner, name)]))
  }
  return value
}

/** Schema-known values hold no secrets (keys are references, file paths are not secrets): only URL queries hide. */
export const redact = (value: unknown, key = ""): unknown => {
  if (key === "options") return redactFreeForm(value, key)
  if (typeof value === "string") return redactUrl(value)
  if (Array.isArray(value)) return value.map((item) => redact(item, key))
  if (Predicate.isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, redact(inner, name)]))
  }
  return value
}

const encode = Schema.encodeSync(Settings)

/** The resolved settings (defaults filled in), as the file would say them, redacted. */
export const redactedSettings = (settings: Settings): unknown => redact(encode(settings))

/** The same as YAML, for check-config and the start-up log. */
export const settingsYaml = (settings: Settings): string => stringify(redactedSettings(settings))
