/**
 * The drawing behind the local provider: renders a placeholder picture for a prompt with skia (through
 * `@napi-rs/canvas`), on this machine, with no network. The same prompt, seed, size and format always give
 * the same bytes.
 *
 * @since 0.1.0
 */
import type * as NapiCanvas from "@napi-rs/canvas"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { createRequire } from "node:module"
import * as Paint from "./internal/paint.js"
import * as Random from "./internal/random.js"
import * as Scene from "./internal/scene.js"

/**
 * Rendering failed: the native canvas could not be loaded on this platform, an input image could not be
 * decoded, or drawing or encoding failed.
 *
 * @since 0.1.0
 * @category Errors
 */
export class RenderError extends Schema.TaggedError<RenderError>("@image-gen/local/LocalRenderer/RenderError")(
  "RenderError",
  {
    reason: Schema.Literal("Unavailable", "Decode", "Draw", "Encode"),
    detail: Schema.String,
    cause: Schema.optional(Schema.Defect)
  }
) {
  override get message(): string {
    return `local renderer: ${this.detail}`
  }
}

/**
 * @since 0.1.0
 * @category Models
 */
export type Format = "png" | "jpeg" | "webp"

/**
 * A decoded input image, drawn cover-fit as the background.
 *
 * @since 0.1.0
 * @category Models
 */
export interface Background {
  readonly width: number
  readonly height: number
  readonly image: NapiCanvas.Image
}

/**
 * @since 0.1.0
 * @category Models
 */
export interface RenderOptions {
  readonly prompt: string
  /** An unsigned 32-bit seed. */
  readonly seed: number
  readonly width: number
  readonly height: number
  readonly format: Format
  /** Drawn cover-fit instead of the generated scene. */
  readonly background?: Background | undefined
  /** Draws the prompt in a caption band at the bottom (default true). */
  readonly caption?: boolean | undefined
  /** Draws the small "image-gen · local" mark and the seed (default true). */
  readonly mark?: boolean | undefined
  /** JPEG and WebP quality, 0 to 100 (default 90). */
  readonly quality?: number | undefined
}

/**
 * The text of the small mark drawn under the caption.
 *
 * @since 0.1.0
 * @category Constants
 */
export const mark = "image-gen · local"

const fontFiles = [
  "@expo-google-fonts/inter/400Regular/Inter_400Regular.ttf",
  "@expo-google-fonts/inter/600SemiBold/Inter_600SemiBold.ttf"
] as const

/** Fonts are registered once per process, in skia's global font collection. */
let fontsRegistered = false

const registerFonts = (canvas: typeof NapiCanvas): Effect.Effect<void, RenderError> =>
  Effect.suspend(() => {
    if (fontsRegistered) return Effect.void
    const require = createRequire(import.meta.url)
    return Effect.forEach(fontFiles, (file) =>
      Effect.try({
        try: () => canvas.GlobalFonts.registerFromPath(require.resolve(file), Paint.fontFamily),
        catch: (cause) =>
          new RenderError({ reason: "Unavailable", detail: `the font ${file} could not be found`, cause })
      }).pipe(
        Effect.filterOrFail(
          (key) => key !== null,
          () => new RenderError({ reason: "Unavailable", detail: `the font ${file} could not be loaded` })
        )
      ), { discard: true }).pipe(Effect.tap(() => {
        fontsRegistered = true
      }))
  })

/**
 * Loads the native canvas lazily, so that importing this package never fails: on a platform without a
 * prebuilt binary, rendering fails with a typed error instead.
 */
const loadCanvas: Effect.Effect<typeof NapiCanvas, RenderError> = Effect.tryPromise({
  try: () => import("@napi-rs/canvas"),
  catch: (cause) =>
    new RenderError({
      reason: "Unavailable",
      detail: `@napi-rs/canvas could not be loaded on ${process.platform}-${process.arch}; ` +
        "reinstall with optional dependencies enabled",
      cause
    })
}).pipe(Effect.tap(registerFonts))

/**
 * The seed used when a request gives none: a hash of the prompt, so the same prompt gives the same image.
 *
 * @since 0.1.0
 * @category Utils
 */
export const seedOf = (prompt: string): number => Random.hash32(prompt)

/**
 * Decodes an input image (PNG, JPEG, WebP, GIF, ...).
 *
 * @since 0.1.0
 * @category Constructors
 */
export const decodeImage = (bytes: Uint8Array): Effect.Effect<Background, RenderError> =>
  Effect.flatMap(loadCanvas, (canvas) =>
    Effect.tryPromise({
      try: () => canvas.loadImage(bytes),
      catch: (cause) =>
        new RenderError({
          reason: "Decode",
          detail: `the input image could not be decoded (${bytes.length} bytes${
            cause instanceof Error ? `: ${cause.message}` : ""
          })`,
          cause
        })
    })).pipe(
      Effect.filterOrFail(
        (image) => image.width > 0 && image.height > 0,
        () => new RenderError({ reason: "Decode", detail: "the input image is empty" })
      ),
      Effect.map((image): Background => ({ width: image.width, height: image.height, image }))
    )

const captionText = (prompt: string): string => {
  // Emoji have no glyph in the bundled font; they would show as empty boxes.
  const text = prompt.replace(/[\p{Extended_Pictographic}\u{FE0F}\u{200D}]/gu, "").replace(/\s+/g, " ").trim()
  return text.length > 400 ? text.slice(0, 400) : text
}

/**
 * Renders one image and encodes it.
 *
 * @since 0.1.0
 * @category Rendering
 */
export const render = (options: RenderOptions): Effect.Effect<Uint8Array, RenderError> =>
  Effect.gen(function*() {
    const canvasModule = yield* loadCanvas
    const { format, height, width } = options
    const canvas = yield* Effect.try({
      try: () => {
        const canvas = canvasModule.createCanvas(width, height)
        const ctx = canvas.getContext("2d")
        const showMark = options.mark !== false
        Paint.paint(ctx, {
          scene: Scene.plan(options.prompt),
          rng: Random.make(Random.hash32(`${options.prompt}\u0000${options.seed >>> 0}`)),
          width,
          height,
          background: options.background?.image,
          caption: options.caption === false && !showMark ? undefined : {
            text: options.caption === false ? "" : captionText(options.prompt),
            mark: showMark ? mark : undefined,
            meta: showMark ? `seed ${options.seed >>> 0} · ${width}×${height}` : undefined
          }
        })
        return canvas
      },
      catch: (cause) => new RenderError({ reason: "Draw", detail: `drawing a ${width}x${height} image failed`, cause })
    })
    const quality = Math.round(Math.min(100, Math.max(0, options.quality ?? 90)))
    // Rasterising and encoding happen here, on libuv's thread pool, so the event loop stays free.
    const bytes = yield* Effect.tryPromise({
      try: () =>
        format === "png"
          ? canvas.encode("png")
          : format === "jpeg"
          ? canvas.encode("jpeg", quality)
          : canvas.encode("webp", quality),
      catch: (cause) =>
        new RenderError({ reason: "Encode", detail: `encoding a ${width}x${height} ${format} failed`, cause })
    })
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }).pipe(
    Effect.withSpan("LocalRenderer.render", {
      captureStackTrace: false,
      attributes: { width: options.width, height: options.height, format: options.format }
    })
  )
