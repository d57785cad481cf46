/**
 * `image-gen generate`: turns flags into an `ImageRequest`, validates it with the router's pre-flight
 * `plan` (no network), streams the generation with progress on stderr, saves the images and prints a
 * summary (or one JSON object with `--json`) on stdout.
 *
 * @since 0.1.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import type { ImageError } from "@image-gen/core"
import { ImageFiles, ImageGen, ImageRequest, ImageResult } from "@image-gen/core"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { CliEnv } from "./CliEnv.js"
import { BadInput, Unexpected } from "./CliError.js"
import * as InputImages from "./InputImages.js"
import * as ProgressView from "./ProgressView.js"
import * as Providers from "./Providers.js"

/**
 * The parsed flags of `generate`.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Flags {
  readonly prompt: string
  readonly model: Option.Option<string>
  readonly fallback: ReadonlyArray<string>
  readonly n: Option.Option<number>
  readonly size: Option.Option<string>
  readonly aspectRatio: Option.Option<string>
  readonly resolution: Option.Option<string>
  readonly seed: Option.Option<number>
  readonly negativePrompt: Option.Option<string>
  readonly image: ReadonlyArray<string>
  readonly mask: Option.Option<string>
  readonly format: Option.Option<string>
  readonly output: Option.Option<string>
  readonly json: boolean
}

/**
 * One saved image as `--json` reports it.
 *
 * @since 0.1.0
 * @category Models
 */
export interface JsonImage {
  /** Absolute path of the saved file. */
  readonly path: string | null
  /** The provider's result URL, when it answered with one. */
  readonly url: string | null
  readonly mediaType: string
  readonly width: number | null
  readonly height: number | null
}

/**
 * The one object `generate --json` prints on stdout.
 *
 * @since 0.1.0
 * @category Models
 */
export interface JsonResult {
  readonly requestId: string
  readonly provider: string
  readonly model: string
  readonly status: "completed"
  readonly images: ReadonlyArray<JsonImage>
  readonly costUsd: number | null
  readonly attempts: number
  readonly fallbackUsed: boolean
  readonly latencyMs: number
}

/**
 * @since 0.1.0
 * @category Encoding
 */
export const toJson = (result: ImageResult.ImageResult): JsonResult => ({
  requestId: result.requestId,
  provider: result.provider,
  model: result.model,
  status: result.status,
  images: result.images.map((image) => ({
    path: image.path ?? null,
    url: image.url === undefined || image.url.startsWith("data:") ? null : image.url,
    mediaType: image.mediaType,
    width: image.width ?? null,
    height: image.height ?? null
  })),
  costUsd: result.costUsd ?? null,
  attempts: result.attempts,
  fallbackUsed: result.fallbackUsed,
  latencyMs: result.timings.latencyMs
})

/**
 * A cost for people: `$0.04`, `$0.0031`, `free`, `unknown`.
 *
 * @since 0.1.0
 * @category Rendering
 */
export const formatCost = (costUsd: number | undefined): string => {
  if (costUsd === undefined) return "cost unknown"
  if (costUsd === 0) return "free"
  return `$${costUsd >= 0.01 ? costUsd.toFixed(2) : costUsd.toFixed(4)}`
}

/**
 * A latency for people: `840 ms`, `12.3 s`.
 *
 * @since 0.1.0
 * @category Rendering
 */
export const formatLatency = (ms: number): string => ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`

/**
 * The human summary: one line per file, then provider:model, cost and latency.
 *
 * @since 0.1.0
 * @category Rendering
 */
export const summary = (result: ImageResult.ImageResult, display: (path: string) => string): Array<string> => {
  const files = result.images.map((image) => {
    const size = image.width !== undefined && image.height !== undefined ? `${image.width}x${image.height} ` : ""
    return `wrote ${image.path === undefined ? "(not saved)" : display(image.path)} (${size}${image.mediaType})`
  })
  const extras = [
    ...(result.fallbackUsed ? ["fallback used"] : []),
    ...(result.attempts > 1 ? [`${result.attempts} attempts`] : [])
  ]
  const last = [
    `${result.provider}:${result.model}`,
    formatCost(result.costUsd),
    formatLatency(result.timings.latencyMs),
    ...extras
  ].join(", ")
  return [...files, last]
}

/**
 * The notice printed when the offline local provider is picked because nothing else is configured.
 *
 * @since 0.1.0
 * @category Rendering
 */
export const defaultModelNotice = (description: string, address: string): string =>
  `No model given and no provider key set: using ${description} (${address}).`

const optional = <A, K extends string>(key: K, value: Option.Option<A>): { [P in K]?: A } =>
  (Option.isSome(value) ? { [key]: value.value } : {}) as { [P in K]?: A }

/**
 * Runs `generate`.
 *
 * @since 0.1.0
 * @category Commands
 */
export const run = (
  flags: Flags
): Effect.Effect<
  void,
  ImageError.ImageError | BadInput | Unexpected,
  ImageGen.ImageGen | CliEnv | FileSystem.FileSystem | Path.Path
> =>
  Effect.gen(function*() {
    const gen = yield* ImageGen.ImageGen
    const env = yield* CliEnv
    const path = yield* Path.Path

    // Input files first: a path that cannot be read is the caller's mistake, found before anything else.
    const images = yield* InputImages.loadAll(flags.image)
    const mask = Option.isSome(flags.mask) ? yield* InputImages.load(flags.mask.value, "mask") : undefined

    for (const address of [...Option.toArray(flags.model), ...flags.fallback]) {
      const missing = Providers.unconfigured(address, gen.providers)
      if (missing !== undefined) {
        return yield* new BadInput({
          detail: `provider "${missing.id}" is not configured: set ${
            Providers.howToConfigure(missing)
          } to use ${address}`
        })
      }
    }
    const chosen = Option.isNone(flags.model) ? Providers.defaultModel(gen.providers) : undefined
    const model = Option.getOrUndefined(flags.model) ?? chosen?.address

    const request = yield* ImageRequest.decode({
      prompt: flags.prompt,
      ...(model === undefined ? {} : { model }),
      ...(flags.fallback.length === 0 ? {} : { fallbacks: flags.fallback }),
      ...optional("n", flags.n),
      ...optional("size", flags.size),
      ...optional("aspectRatio", flags.aspectRatio),
      ...optional("resolution", flags.resolution),
      ...optional("seed", flags.seed),
      ...optional("negativePrompt", flags.negativePrompt),
      ...optional("outputFormat", flags.format),
      ...(images.length === 0 ? {} : { images }),
      ...(mask === undefined ? {} : { mask })
    })

    // Without -o the images go to ./image-gen-<id>.<ext>, named once their media type is known.
    const output = Option.map(flags.output, (o) => path.resolve(env.cwd, o))
    const stem = path.join(env.cwd, `image-gen-${crypto.randomUUID().slice(0, 8)}`)
    const options: ImageGen.GenerateOptions = Option.isSome(output) ? { output: output.value } : { download: true }

    // Pre-flight: decode, resolve, validate against the catalog, check the output path. No network.
    // Without --format, `-o x.png` asks for png when the catalog says every model of the chain offers it,
    // so the file holds what its name says; models the catalog does not know get no format they may refuse.
    const inferred = Option.isNone(flags.format) ? Option.flatMap(output, formatOfPath) : Option.none()
    const planned = yield* gen.plan(request, options)
    const offered = (format: ImageRequest.OutputFormat) =>
      planned.targets.every((target) => target.entry?.capabilities.outputFormats?.includes(format) === true)
    const plan = Option.isSome(inferred) && offered(inferred.value)
      ? yield* gen.plan(new ImageRequest.ImageRequest({ ...request, outputFormat: inferred.value }), options)
      : planned
    yield* Effect.forEach(plan.warnings, (warning) => Console.error(`note: ${warning}`), { discard: true })
    if (chosen?.keyless !== undefined) {
      const target = plan.targets[0]!
      yield* Console.error(defaultModelNotice(chosen.keyless.description, `${target.provider}:${target.model}`))
    }

    const generated = yield* Effect.scoped(
      Effect.gen(function*() {
        const view = yield* ProgressView.make
        return yield* gen.generateStream(plan.request, options).pipe(
          Stream.tap(view.onEvent),
          Stream.filterMap((event) => event._tag === "Completed" ? Option.some(event.result) : Option.none()),
          Stream.runLast,
          Effect.ensuring(view.clear)
        )
      })
    )
    if (Option.isNone(generated)) {
      return yield* new Unexpected({ detail: "the generation ended without a result" })
    }
    const result = Option.isSome(output) ? generated.value : yield* saveDefault(generated.value, stem)

    for (const image of result.images) {
      const named = image.path === undefined ? Option.none() : formatOfPath(image.path)
      if (Option.isSome(named) && ImageRequest.mediaTypeOf(named.value) !== image.mediaType) {
        yield* Console.error(
          `note: ${image.path} holds ${image.mediaType} data: ${result.provider}:${result.model} does not offer ${named.value}`
        )
      }
    }

    if (flags.json) {
      yield* Console.log(JSON.stringify(toJson(result)))
    } else {
      const display = (p: string) => {
        const relative = path.relative(env.cwd, p)
        return relative.startsWith("..") || path.isAbsolute(relative) ? p : relative
      }
      yield* Effect.forEach(summary(result, display), (line) => Console.log(line), { discard: true })
    }
  })

/** The output format a file name asks for: `x.png` is png, `x.jpg` jpeg. */
const formatOfPath = (file: string): Option.Option<ImageRequest.OutputFormat> => {
  const ext = file.slice(file.lastIndexOf(".") + 1).toLowerCase()
  switch (ext) {
    case "png":
    case "webp":
    case "svg":
    case "mp4":
      return Option.some(ext)
    case "jpg":
    case "jpeg":
      return Option.some("jpeg")
    default:
      return Option.none()
  }
}

/** Saves downloaded images as `<stem>.<ext>` (numbered when several), the extension from the media type. */
const saveDefault = (
  result: ImageResult.ImageResult,
  stem: string
): Effect.Effect<ImageResult.ImageResult, ImageError.SaveFailed | Unexpected, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const images = yield* Effect.forEach(result.images, (image, index): Effect.Effect<
      ImageResult.GeneratedImage,
      ImageError.SaveFailed | Unexpected,
      FileSystem.FileSystem | Path.Path
    > => {
      const path = ImageGen.numbered(
        `${stem}.${ImageRequest.extensionOf(image.mediaType)}`,
        index,
        result.images.length
      )
      if (image.bytes !== undefined) {
        return Effect.as(ImageFiles.saveBytes(image.bytes, path), new ImageResult.GeneratedImage({ ...image, path }))
      }
      // The router downloads URL results into bytes when asked (`download: true`).
      return Effect.fail(
        new Unexpected({ detail: `${result.provider} returned an image that could not be downloaded` })
      )
    })
    return new ImageResult.ImageResult({ ...result, images })
  })
