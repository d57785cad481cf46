/**
 * Telemetry of image generation: OpenTelemetry GenAI attribute names, Effect metrics, and the one
 * canonical log record per request.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricLabel from "effect/MetricLabel"

/**
 * GenAI semantic convention keys (defined locally: semconv-js marks them as moved).
 *
 * @since 0.1.0
 * @category Attributes
 */
export const Attributes = {
  operationName: "gen_ai.operation.name",
  providerName: "gen_ai.provider.name",
  requestModel: "gen_ai.request.model",
  responseModel: "gen_ai.response.model",
  responseId: "gen_ai.response.id",
  outputType: "gen_ai.output.type",
  choiceCount: "gen_ai.request.choice.count",
  seed: "gen_ai.request.seed",
  inputTokens: "gen_ai.usage.input_tokens",
  outputTokens: "gen_ai.usage.output_tokens",
  errorType: "error.type",
  serverAddress: "server.address"
} as const

/**
 * The `gen_ai.operation.name` of image generation (custom: GenAI conventions have none for images yet).
 *
 * @since 0.1.0
 * @category Attributes
 */
export const operationName = "generate_image"

/**
 * Requests by provider, model and final status (`completed`, `blocked`, `failed`).
 *
 * @since 0.1.0
 * @category Metrics
 */
export const requests = Metric.counter("image_gen_requests_total", {
  description: "Image generation requests by provider, model and status"
})

/**
 * @since 0.1.0
 * @category Metrics
 */
export const retries = Metric.counter("image_gen_retries_total", {
  description: "Provider calls retried after a transient failure"
})

/**
 * @since 0.1.0
 * @category Metrics
 */
export const fallbacks = Metric.counter("image_gen_fallbacks_total", {
  description: "Moves to the next model of a fallback chain"
})

/**
 * @since 0.1.0
 * @category Metrics
 */
export const costUsd = Metric.counter("image_gen_cost_usd_total", {
  description: "Cost of completed generations in USD (reported or estimated from the catalog)"
})

/**
 * @since 0.1.0
 * @category Metrics
 */
export const latency = Metric.histogram(
  "image_gen_latency_seconds",
  MetricBoundaries.exponential({ start: 0.05, factor: 2, count: 14 }),
  "Wall time of a request, retries and fallbacks included"
)

/**
 * The GenAI client operation duration histogram, per provider attempt.
 *
 * @since 0.1.0
 * @category Metrics
 */
export const operationDuration = Metric.histogram(
  "gen_ai.client.operation.duration",
  MetricBoundaries.exponential({ start: 0.01, factor: 2, count: 16 }),
  "Duration of one provider call in seconds"
)

/**
 * The canonical fields logged once per request.
 *
 * @since 0.1.0
 * @category Logging
 */
export interface RequestRecord {
  readonly request_id: string
  readonly provider: string
  readonly model: string
  readonly latency_ms: number
  readonly status: "completed" | "blocked" | "failed"
  readonly bytes_out: number
  readonly cost_usd: number | null
  readonly retry_count: number
  readonly fallback_used: boolean
  readonly correlation_id: string | null
  /** Deprecated models used, with their replacements. */
  readonly warnings?: string
  readonly error_type?: string
  readonly error?: string
}

/**
 * Logs the canonical record `image_gen.request` with its fields as annotations.
 *
 * @since 0.1.0
 * @category Logging
 */
export const logRequest = (record: RequestRecord): Effect.Effect<void> =>
  (record.status === "completed" ? Effect.logInfo("image_gen.request") : Effect.logWarning("image_gen.request")).pipe(
    Effect.annotateLogs(record as unknown as Record<string, unknown>)
  )

/**
 * A logger for applications: one JSON line per record on stderr when `IMAGE_GEN_LOG_FORMAT=json`,
 * logfmt on stderr otherwise (stdout stays free for results).
 *
 * @since 0.1.0
 * @category Logging
 */
export const layerLogger: Layer.Layer<never> = Layer.unwrapEffect(
  Effect.map(
    Config.string("IMAGE_GEN_LOG_FORMAT").pipe(Config.withDefault("text"), Effect.orElseSucceed(() => "text")),
    (format) =>
      Logger.replace(
        Logger.defaultLogger,
        // withConsoleError alone: withLeveledConsole would print info records on stdout (console.info) and
        // hand `undefined` on to withConsoleError, which printed it on stderr.
        Logger.withConsoleError(format.toLowerCase() === "json" ? Logger.jsonLogger : Logger.logfmtLogger)
      )
  )
)

/**
 * A metric with the given tags (label key and value pairs).
 *
 * @since 0.1.0
 * @category Metrics
 */
export const tagged = <Type, In, Out>(
  metric: Metric.Metric<Type, In, Out>,
  tags: Readonly<Record<string, string>>
): Metric.Metric<Type, In, Out> =>
  Metric.taggedWithLabels(metric, Object.entries(tags).map(([key, value]) => MetricLabel.make(key, value)))
