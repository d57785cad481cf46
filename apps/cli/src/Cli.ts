/**
 * The `image-gen` command line: `generate` and `models`, built with @effect/cli. `run(argv)` parses,
 * runs, and turns every failure into one line on stderr and an exit code, so it can be driven in-process.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import type * as Terminal from "@effect/platform/Terminal"
import type { ImageGen } from "@image-gen/core"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import { createRequire } from "node:module"
import type { CliEnv } from "./CliEnv.js"
import * as ExitCode from "./ExitCode.js"
import * as Generate from "./Generate.js"
import * as Models from "./Models.js"

const prompt = Options.text("prompt").pipe(
  Options.withAlias("p"),
  Options.withDescription("What to draw.")
)
const model = Options.text("model").pipe(
  Options.withAlias("m"),
  Options.withDescription(
    "Model address: provider:model (e.g. local:placeholder-1), a provider name for its default model, or a catalog shorthand. Default: the first configured provider, else the offline local provider."
  ),
  Options.optional
)
const fallback = Options.text("fallback").pipe(
  Options.withDescription("A model to try when the previous one fails; repeat for a chain."),
  Options.repeated
)
const n = Options.integer("n").pipe(Options.withDescription("How many images (1 to 16)."), Options.optional)
const size = Options.text("size").pipe(
  Options.withDescription("WIDTHxHEIGHT in pixels, e.g. 1024x768."),
  Options.optional
)
const aspectRatio = Options.text("aspect-ratio").pipe(
  Options.withDescription("W:H, e.g. 16:9 (when no --size)."),
  Options.optional
)
const resolution = Options.text("resolution").pipe(
  Options.withDescription("1K, 2K, 4K, 720p or 1080p (with --aspect-ratio)."),
  Options.optional
)
const seed = Options.integer("seed").pipe(Options.withDescription("Seed, 0 to 4294967295."), Options.optional)
const negativePrompt = Options.text("negative-prompt").pipe(
  Options.withDescription("What not to draw, for models that support it."),
  Options.optional
)
const image = Options.text("image").pipe(
  Options.withDescription("An input image: a file path or an http(s) URL; repeat for several."),
  Options.repeated
)
const mask = Options.text("mask").pipe(Options.withDescription("A mask image file for editing."), Options.optional)
const format = Options.text("format").pipe(
  Options.withDescription("Output format: png, jpeg or webp (svg, mp4 for models that make them)."),
  Options.optional
)
const output = Options.text("output").pipe(
  Options.withAlias("o"),
  Options.withDescription(
    "Where to save the image; with -n above 1 the files are numbered (out-1.png, ...). Default: ./image-gen-<id>.<ext>."
  ),
  Options.optional
)
const json = Options.boolean("json").pipe(Options.withDescription("Print one JSON object on stdout."))

/**
 * `image-gen generate`.
 *
 * @since 0.1.0
 * @category Commands
 */
export const generate = Command.make(
  "generate",
  {
    prompt,
    model,
    fallback,
    n,
    size,
    aspectRatio,
    resolution,
    seed,
    negativePrompt,
    image,
    mask,
    format,
    output,
    json
  },
  (flags) => withOutputConsole(Generate.run(flags))
).pipe(Command.withDescription("Generate images from a prompt and save them."))

/**
 * `image-gen models`.
 *
 * @since 0.1.0
 * @category Commands
 */
export const models = Command.make(
  "models",
  {
    provider: Options.text("provider").pipe(Options.withDescription("Only this provider's models."), Options.optional),
    json
  },
  (flags) => withOutputConsole(Models.run(flags))
).pipe(Command.withDescription("List the models of the installed providers."))

/**
 * The root command.
 *
 * @since 0.1.0
 * @category Commands
 */
export const command = Command.make("image-gen").pipe(
  Command.withDescription("Generate images with any provider, from the command line."),
  Command.withSubcommands([generate, models])
)

/**
 * The version from package.json (one directory above both `src/` and `dist/`).
 *
 * @since 0.1.0
 * @category Constants
 */
export const version: string = (() => {
  const pkg: unknown = createRequire(import.meta.url)("../package.json")
  return Predicate.hasProperty(pkg, "version") && typeof pkg.version === "string" ? pkg.version : "0.0.0"
})()

const cli = Command.run(command, { name: "image-gen", version })

/**
 * What `run` needs: the router, the process environment, and @effect/cli's platform services.
 *
 * @since 0.1.0
 * @category Models
 */
export type Requirements = ImageGen.ImageGen | CliEnv | FileSystem.FileSystem | Path.Path | Terminal.Terminal

/**
 * Parses `argv` (as `process.argv`: runtime, script, then arguments) and runs the command. Never fails:
 * a failure is printed as one line, `image-gen: <cause>`, on stderr, and the exit code is returned.
 *
 * @since 0.1.0
 * @category Running
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<number, never, Requirements> =>
  Console.consoleWith((console) =>
    // @effect/cli prints its own parse errors (multi-line, unprefixed) on the console's error stream before
    // failing with a ValidationError. That stream is muted while parsing and each failure is reported below
    // instead; command handlers get the real console back.
    cli(argv).pipe(
      Effect.withConsole(withoutErrors(console)),
      Effect.provideService(OutputConsole, console),
      Effect.as(ExitCode.Success),
      Effect.catchAllCause((cause) => {
        const outcome = ExitCode.fromCause(cause)
        return Effect.as(Console.error(`image-gen: ${outcome.message}`), outcome.code)
      })
    )
  )

/** The console the command's output goes to, set aside while @effect/cli's error printing is muted. */
class OutputConsole extends Context.Tag("@image-gen/cli/Cli/OutputConsole")<OutputConsole, Console.Console>() {}

const withOutputConsole = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(
    Effect.serviceOption(OutputConsole),
    Option.match({ onNone: () => effect, onSome: (console) => Effect.withConsole(effect, console) })
  )

const withoutErrors = (console: Console.Console): Console.Console => ({
  ...console,
  error: () => Effect.void,
  unsafe: { ...console.unsafe, error: () => {} }
})
