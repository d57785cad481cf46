/**
 * Maps Google's `google.rpc.Status` error answers to `ImageError`s.
 */
import * as ImageError from "@image-gen/core/ImageError"
import * as ProviderHttp from "@image-gen/core/ProviderHttp"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { ErrorBody } from "./wire.js"

const decodeErrorBody = Schema.decodeUnknownEither(Schema.parseJson(ErrorBody))

const typeOf = (detail: Readonly<Record<string, unknown>>): string => {
  const t = detail["@type"]
  return typeof t === "string" ? t : ""
}

/** `"34s"`, `"1.5s"` (protobuf Duration JSON) as milliseconds. */
export const durationMillis = (value: unknown): number | undefined => {
  if (typeof value !== "string") return undefined
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim())
  return match === null ? undefined : Math.round(Number(match[1]) * 1000)
}

/**
 * Text patterns of an Imagen prompt refused by Responsible AI filters (HTTP 400). The exact wording is
 * UNCONFIRMED; these follow observed messages ("The prompt could not be submitted", "Support codes").
 */
const raiPatterns = [/could not be submitted/i, /support codes?:/i, /usage guidelines/i, /responsible ai/i]

/**
 * The typed error for a non-2xx answer from generateContent or predict.
 */
export const fromStatus = (
  call: ProviderHttp.CallSite,
  status: number,
  headers: Readonly<Record<string, string | undefined>>,
  body: string,
  nowMillis: number
): ImageError.ImageError => {
  const parsed = Either.getOrUndefined(decodeErrorBody(body))?.error
  const details = parsed?.details ?? []
  const message = parsed?.message ?? ""
  const reason = details.find((d) => typeOf(d).endsWith("google.rpc.ErrorInfo"))?.reason
  const where = {
    provider: call.provider,
    ...(call.model === undefined ? {} : { model: call.model })
  }
  // An invalid API key is a 400 INVALID_ARGUMENT with ErrorInfo.reason API_KEY_INVALID.
  if (status === 400 && (reason === "API_KEY_INVALID" || /api key not valid/i.test(message))) {
    return new ImageError.AuthenticationError({
      ...where,
      status,
      ...(call.keyName === undefined ? {} : { keyName: call.keyName }),
      detail: message || "API key not valid"
    })
  }
  if (status === 400 && raiPatterns.some((p) => p.test(message))) {
    return new ImageError.ContentBlocked({ ...where, reason: message })
  }
  let extraHeaders: Record<string, string> = {}
  if (status === 429 && ProviderHttp.retryAfterMillis(headers, nowMillis) === undefined) {
    const retryInfo = details.find((d) => typeOf(d).endsWith("google.rpc.RetryInfo"))
    const delay = durationMillis(retryInfo?.retryDelay)
    const daily = details.some((d) =>
      typeOf(d).endsWith("google.rpc.QuotaFailure") && JSON.stringify(d["violations"] ?? []).includes("PerDay")
    )
    // A daily quota does not clear in seconds: say so, so the router does not hammer it.
    const wait = delay ?? (daily ? 3_600_000 : undefined)
    if (wait !== undefined) extraHeaders = { "retry-after-ms": String(wait) }
  }
  return ProviderHttp.statusError(call, status, { ...headers, ...extraHeaders }, body, nowMillis)
}
