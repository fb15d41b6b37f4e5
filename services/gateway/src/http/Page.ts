import { readFileSync } from "node:fs"
import { join } from "node:path"
import { HttpRouter, HttpServerResponse } from "effect/http"

const PAGE_DIR = join(import.meta.dirname, "page")

const asset = (file: string, contentType: string) => {
  const body = readFileSync(join(PAGE_DIR, file), "utf8")
  return HttpServerResponse.text(body, { contentType, headers: { "cache-control": "no-cache" } })
}

/** The page that runs a search and draws its tree as the events arrive (or opens a saved trace). */
export const pageRoutes = [
  HttpRouter.route("GET", "/", asset("index.html", "text/html; charset=utf-8")),
  HttpRouter.route("GET", "/page.js", asset("page.js", "text/javascript; charset=utf-8")),
  HttpRouter.route("GET", "/page.css", asset("page.css", "text/css; charset=utf-8")),
] as const
