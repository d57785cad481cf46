/**
 * The program: `Cli.run` with the real process around it: Node's file system and terminal, undici for
 * HTTP, the router over the configured providers, stderr logging and optional OTLP export.
 *
 * @since 0.1.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Cli from "./Cli.js"
import * as CliEnv from "./CliEnv.js"
import * as ExitCode from "./ExitCode.js"
import * as Observability from "./Observability.js"
import * as Providers from "./Providers.js"

/**
 * Everything `Cli.run` needs, for the real process.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (providers: ReadonlyArray<Providers.ProviderSpec> = Providers.all) => {
  const platform = Layer.mergeAll(NodeContext.layer, NodeHttpClient.layerUndici)
  return Layer.mergeAll(Providers.layer(providers), CliEnv.layerNode).pipe(Layer.provideMerge(platform))
}

/**
 * Runs the command line on `argv` (as `process.argv`) and returns the exit code. Failures while building
 * the services (a bad provider configuration) are reported like any other: one line, an exit code.
 *
 * @since 0.1.0
 * @category Running
 */
export const main = (
  argv: ReadonlyArray<string>,
  providers: ReadonlyArray<Providers.ProviderSpec> = Providers.all
): Effect.Effect<number> =>
  Cli.run(argv).pipe(
    Effect.provide(layer(providers)),
    Effect.catchAllCause((cause) => {
      const outcome = ExitCode.fromCause(cause)
      return Effect.as(Console.error(`image-gen: ${outcome.message}`), outcome.code)
    }),
    Effect.provide(Observability.layerLogger),
    Effect.provide(Observability.layerOtlp({ serviceVersion: Cli.version }))
  )
