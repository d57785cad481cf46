import * as Effect from "effect/Effect"

/** `fetch` as an Effect; a rejection becomes the failure (kept as `unknown`). */
export const fetchE = (url: string, init?: RequestInit): Effect.Effect<Response, unknown> =>
  Effect.tryPromise({ try: () => fetch(url, init), catch: (error) => error })

/** Reads the body as text; a failed read becomes the failure. */
export const textE = (response: Response): Effect.Effect<string, unknown> =>
  Effect.tryPromise({ try: () => response.text(), catch: (error) => error })

/** Fetches and reads the body as text. */
export const fetchText = (url: string, init?: RequestInit) =>
  Effect.flatMap(fetchE(url, init), (response) => Effect.map(textE(response), (text) => ({ response, text })))

/** Fetches and parses the body as JSON. */
export const fetchJson = (url: string, init?: RequestInit) =>
  Effect.map(fetchText(url, init), ({ response, text }) => ({ response, json: JSON.parse(text) as unknown }))

/** The `code` of an error or of its `cause` (undici wraps socket errors in `TypeError: fetch failed`). */
export const errorCode = (error: unknown): string | undefined => {
  let current: unknown = error
  for (let i = 0; i < 5 && typeof current === "object" && current !== null; i++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === "string") return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}
