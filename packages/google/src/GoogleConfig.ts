/**
 * Environment configuration of the two Google providers, with the precedence of the `google` and
 * `google-studio` providers:
 *
 * | Provider | Set | Backend |
 * | --- | --- | --- |
 * | `google` | `GOOGLE_VERTEX_API_KEY` (first choice) | Vertex AI with that key (project path when `GOOGLE_CLOUD_PROJECT` is set, else express mode) |
 * | `google` | `GOOGLE_API_KEY` + `GOOGLE_GENAI_USE_VERTEXAI=true` | Vertex AI with that key (legacy) |
 * | `google` | `GOOGLE_CLOUD_PROJECT` (+ `GOOGLE_CLOUD_LOCATION`, default `us-central1`) | Vertex AI with Application Default Credentials |
 * | `google` | `GOOGLE_API_KEY` alone | Gemini Developer API (AI Studio, legacy) |
 * | `google-studio` | `GOOGLE_GEMINI_API_KEY`, else `GOOGLE_API_KEY` (unless `GOOGLE_GENAI_USE_VERTEXAI=true`) | Gemini Developer API |
 *
 * `GOOGLE_GENAI_USE_VERTEXAI=false` with `GOOGLE_API_KEY` keeps the `google` provider on AI Studio even
 * when `GOOGLE_CLOUD_PROJECT` is set. Base URLs: `GOOGLE_VERTEX_BASE_URL` (default
 * `https://{location}-aiplatform.googleapis.com`) and `GOOGLE_GEMINI_BASE_URL` (default
 * `https://generativelanguage.googleapis.com`). Empty variables count as unset.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { Backend } from "./GoogleClient.js"

const text = (name: string) =>
  Config.option(Config.string(name)).pipe(
    Config.map(Option.map((s) => s.trim())),
    Config.map(Option.filter((s) => s !== ""))
  )

const secret = (name: string) =>
  Config.option(Config.redacted(name)).pipe(
    Config.map(Option.filter((r) => Redacted.value(r).trim() !== ""))
  )

/** `true`/`1`/`yes`/`on` (any case) is true, `false`/`0`/`no`/`off` false, anything else unset. */
const flag = (name: string) =>
  text(name).pipe(
    Config.map(Option.flatMap((s) => {
      const v = s.toLowerCase()
      if (v === "true" || v === "1" || v === "yes" || v === "on") return Option.some(true)
      if (v === "false" || v === "0" || v === "no" || v === "off") return Option.some(false)
      return Option.none()
    }))
  )

/**
 * The environment variables both providers read.
 *
 * @since 0.1.0
 * @category Configuration
 */
export const env = Config.all({
  vertexApiKey: secret("GOOGLE_VERTEX_API_KEY"),
  geminiApiKey: secret("GOOGLE_GEMINI_API_KEY"),
  apiKey: secret("GOOGLE_API_KEY"),
  useVertexAi: flag("GOOGLE_GENAI_USE_VERTEXAI"),
  project: text("GOOGLE_CLOUD_PROJECT"),
  location: text("GOOGLE_CLOUD_LOCATION"),
  vertexBaseUrl: text("GOOGLE_VERTEX_BASE_URL"),
  geminiBaseUrl: text("GOOGLE_GEMINI_BASE_URL")
})

/**
 * @since 0.1.0
 * @category Models
 */
export type Env = Config.Config.Success<typeof env>

const opt = <K extends string, A>(key: K, value: Option.Option<A>): { readonly [P in K]?: A } =>
  (Option.isSome(value) ? { [key]: value.value } : {}) as { readonly [P in K]?: A }

/**
 * The `google` provider's backend from the environment (pure; see the module docs for the precedence).
 *
 * @since 0.1.0
 * @category Configuration
 */
export const resolveGoogle = (e: Env): Either.Either<Backend, ConfigError.ConfigError> => {
  const vertex = { ...opt("location", e.location), ...opt("baseUrl", e.vertexBaseUrl) }
  if (Option.isSome(e.vertexApiKey)) {
    return Either.right({
      _tag: "VertexApiKey",
      apiKey: e.vertexApiKey.value,
      keyName: "GOOGLE_VERTEX_API_KEY",
      ...opt("project", e.project),
      ...vertex
    })
  }
  const useVertex = Option.getOrUndefined(e.useVertexAi)
  if (Option.isSome(e.apiKey) && useVertex === true) {
    return Either.right({
      _tag: "VertexApiKey",
      apiKey: e.apiKey.value,
      keyName: "GOOGLE_API_KEY (with GOOGLE_GENAI_USE_VERTEXAI=true)",
      ...opt("project", e.project),
      ...vertex
    })
  }
  if (Option.isSome(e.project) && !(useVertex === false && Option.isSome(e.apiKey))) {
    return Either.right({ _tag: "VertexAdc", project: e.project.value, ...vertex })
  }
  if (Option.isSome(e.apiKey)) {
    return Either.right({
      _tag: "GeminiApi",
      apiKey: e.apiKey.value,
      keyName: "GOOGLE_API_KEY",
      ...opt("baseUrl", e.geminiBaseUrl)
    })
  }
  return Either.left(ConfigError.MissingData(
    ["GOOGLE_VERTEX_API_KEY"],
    "The google provider needs GOOGLE_VERTEX_API_KEY (Vertex AI API key), or GOOGLE_CLOUD_PROJECT " +
      "(+ GOOGLE_CLOUD_LOCATION) with Application Default Credentials, or the legacy GOOGLE_API_KEY " +
      "(with GOOGLE_GENAI_USE_VERTEXAI=true for Vertex AI)"
  ))
}

/**
 * The `google-studio` provider's backend from the environment.
 *
 * @since 0.1.0
 * @category Configuration
 */
export const resolveStudio = (e: Env): Either.Either<Backend, ConfigError.ConfigError> => {
  const baseUrl = opt("baseUrl", e.geminiBaseUrl)
  if (Option.isSome(e.geminiApiKey)) {
    return Either.right({
      _tag: "GeminiApi",
      apiKey: e.geminiApiKey.value,
      keyName: "GOOGLE_GEMINI_API_KEY",
      ...baseUrl
    })
  }
  if (Option.isSome(e.apiKey) && Option.getOrUndefined(e.useVertexAi) !== true) {
    return Either.right({ _tag: "GeminiApi", apiKey: e.apiKey.value, keyName: "GOOGLE_API_KEY", ...baseUrl })
  }
  return Either.left(ConfigError.MissingData(
    ["GOOGLE_GEMINI_API_KEY"],
    "The google-studio provider needs GOOGLE_GEMINI_API_KEY (an AI Studio API key), or the legacy GOOGLE_API_KEY"
  ))
}

/**
 * The `google` provider's backend (Vertex AI first).
 *
 * @since 0.1.0
 * @category Configuration
 */
export const google: Config.Config<Backend> = Config.mapOrFail(env, resolveGoogle)

/**
 * The `google-studio` provider's backend (Gemini Developer API).
 *
 * @since 0.1.0
 * @category Configuration
 */
export const studio: Config.Config<Backend> = Config.mapOrFail(env, resolveStudio)
