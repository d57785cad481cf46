/**
 * Path patterns for fake routes and request filters.
 *
 * - `:name` matches one segment and captures it as `params.name`. A literal suffix is allowed in the
 *   same segment: `/models/:model:generateContent`.
 * - `*` (or `*name`) matches the rest of the path. At the end of a pattern it matches zero or more
 *   segments (`/files/*` matches `/files`, `/files/a/b`); in the middle it matches one or more
 *   segments (`/fal-ai/*model/requests/:id`). The capture is named `*` unless a name is given.
 * - Everything else matches literally. A trailing slash on the request path is ignored.
 *
 * @internal
 */

/** @internal */
export interface PathPattern {
  readonly pattern: string
  readonly match: (path: string) => Readonly<Record<string, string>> | undefined
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** @internal */
export const normalizePattern = (pattern: string): string => (pattern.startsWith("/") ? pattern : `/${pattern}`)

/** @internal */
export const compile = (rawPattern: string): PathPattern => {
  const pattern = normalizePattern(rawPattern)
  const segments = pattern === "/" ? [] : pattern.slice(1).split("/")
  const names: Array<string> = []
  let source = ""
  segments.forEach((segment, index) => {
    const isLast = index === segments.length - 1
    if (segment.startsWith("*")) {
      names.push(segment.length > 1 ? segment.slice(1) : "*")
      source += isLast ? "(?:/(.*))?" : "/(.+)"
      return
    }
    const param = /^:([A-Za-z0-9_]+)(.*)$/.exec(segment)
    if (param !== null) {
      names.push(param[1])
      source += param[2] === "" ? "/([^/]+)" : `/([^/]+?)${escapeRegExp(param[2])}`
      return
    }
    source += `/${escapeRegExp(segment)}`
  })
  const regExp = new RegExp(`^${source}/?$`)
  return {
    pattern,
    match: (path) => {
      const found = regExp.exec(path === "" ? "/" : path)
      if (found === null) return undefined
      const params: Record<string, string> = {}
      names.forEach((name, i) => {
        params[name] = safeDecode(found[i + 1] ?? "")
      })
      return params
    }
  }
}
