/**
 * Logs, traces and metrics of a run.
 *
 * - Traces and metrics go over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the exporters read
 *   the standard `OTEL_*` variables); otherwise nothing is installed.
 * - Logs go to stderr. The canonical `image_gen.request` record is printed only when
 *   `IMAGE_GEN_LOG_FORMAT` is set (`json` for one JSON line, anything else for logfmt); otherwise stderr
 *   stays clean apart from other warnings, and a failed request is reported once, by the error line.
 *
 * @since 0.1.0
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { Telemetry } from "@image-gen/core"
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"

const optionalEnv = (name: string): Effect.Effect<Option.Option<string>> =>
  Config.option(Config.nonEmptyString(name)).pipe(Effect.orElseSucceed(() => Option.none<string>()))

/**
 * OTLP export of traces and metrics when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; nothing otherwise.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerOtlp = (options: { readonly serviceVersion?: string | undefined } = {}): Layer.Layer<never> =>
  Layer.unwrapEffect(
    Effect.map(
      optionalEnv("OTEL_EXPORTER_OTLP_ENDPOINT"),
      (endpoint): Layer.Layer<never> =>
        Option.isNone(endpoint) ? Layer.empty : NodeSdk.layer(() => ({
          resource: {
            serviceName: "image-gen",
            ...(options.serviceVersion === undefined ? {} : { serviceVersion: options.serviceVersion })
          },
          spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter()),
          metricReader: new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter() })
        }))
    )
  )

/** The message of the canonical per-request record logged by the router. */
const requestRecord = "image_gen.request"

const isRequestRecord = (message: unknown): boolean =>
  message === requestRecord || (Array.isArray(message) && message.length === 1 && message[0] === requestRecord)

/**
 * Stderr logging. With `IMAGE_GEN_LOG_FORMAT` set: core's `Telemetry.layerLogger` at level Info, so each
 * request logs its canonical record. Without it: warnings and above in logfmt, minus the canonical record.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerLogger: Layer.Layer<never> = Layer.unwrapEffect(
  Effect.map(optionalEnv("IMAGE_GEN_LOG_FORMAT"), (format): Layer.Layer<never> =>
    Option.isSome(format)
      ? Layer.merge(Telemetry.layerLogger, Logger.minimumLogLevel(LogLevel.Info))
      : Layer.merge(
        Logger.replace(
          Logger.defaultLogger,
          Logger.make((options) => {
            if (!isRequestRecord(options.message)) stderrLogfmt.log(options)
          })
        ),
        Logger.minimumLogLevel(LogLevel.Warning)
      ))
)

const stderrLogfmt = Logger.withConsoleError(Logger.logfmtLogger)
