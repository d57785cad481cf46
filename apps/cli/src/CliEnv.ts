/**
 * What the command reads from the process it runs in: the working directory, whether stderr is a
 * terminal, and a raw stderr writer for the progress line. A service, so tests can run the CLI in-process
 * against a temporary directory and a fake terminal.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * @since 0.1.0
 * @category Models
 */
export interface Service {
  /** Relative paths (`-o`, `--image`, the default output name) resolve against this directory. */
  readonly cwd: string
  /** Progress is drawn only on a terminal. */
  readonly stderrIsTTY: boolean
  /** Writes text to stderr as is (no newline added), for the in-place progress line. */
  readonly writeStderr: (text: string) => Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category Context
 */
export class CliEnv extends Context.Tag("@image-gen/cli/CliEnv")<CliEnv, Service>() {}

/**
 * The real process: `process.cwd()`, `process.stderr.isTTY`, `process.stderr.write`.
 *
 * @since 0.1.0
 * @category Layers
 */
export const layerNode: Layer.Layer<CliEnv> = Layer.sync(CliEnv, () =>
  CliEnv.of({
    cwd: process.cwd(),
    stderrIsTTY: process.stderr.isTTY === true,
    writeStderr: (text) =>
      Effect.sync(() => {
        process.stderr.write(text)
      })
  }))

/**
 * A fixed directory, no terminal unless asked, and stderr writes passed to `write` (dropped by default).
 *
 * @since 0.1.0
 * @category Layers
 */
export const layer = (options: {
  readonly cwd: string
  readonly stderrIsTTY?: boolean | undefined
  readonly write?: ((text: string) => void) | undefined
}): Layer.Layer<CliEnv> =>
  Layer.succeed(
    CliEnv,
    CliEnv.of({
      cwd: options.cwd,
      stderrIsTTY: options.stderrIsTTY ?? false,
      writeStderr: (text) => Effect.sync(() => options.write?.(text))
    })
  )
