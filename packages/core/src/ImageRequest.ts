/**
 * What a caller asks for. Decoded at every edge (CLI flags, HTTP bodies), so bad input becomes a clear
 * `InvalidRequest`, never a crash.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { InvalidRequest } from "./ImageError.js"

/**
 * An image size as `WIDTHxHEIGHT`, e.g. `1024x768`.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const Size = Schema.String.pipe(
  Schema.pattern(/^[1-9]\d{0,4}x[1-9]\d{0,4}$/, {
    message: () => "size must be WIDTHxHEIGHT in pixels, e.g. 1024x768"
  })
)

/**
 * An aspect ratio as `W:H`, e.g. `16:9`.
 *
 * @since 0.1.0
 * @category Schemas
 */
export const AspectRatio = Schema.String.pipe(
  Schema.pattern(/^[1-9]\d{0,2}:[1-9]\d{0,2}$/, { message: () => "aspect ratio must be W:H, e.g. 16:9" })
)

/**
 * @since 0.1.0
 * @category Schemas
 */
export const Resolution = Schema.Literal("1K", "2K", "4K", "720p", "1080p").annotations({
  // override: without it the formatters report the members ('Expected "1K", actual "8K"') instead.
  message: () => ({ message: "resolution must be one of 1K, 2K, 4K, 720p, 1080p", override: true })
})

/**
 * @since 0.1.0
 * @category Models
 */
export type Resolution = typeof Resolution.Type

/**
 * @since 0.1.0
 * @category Schemas
 */
export const OutputFormat = Schema.Literal("png", "jpeg", "webp", "svg", "mp4").annotations({
  message: () => ({
    message: "format must be one of png, jpeg, webp (svg for vector models, mp4 for video models)",
    override: true
  })
})

/**
 * @since 0.1.0
 * @category Models
 */
export type OutputFormat = typeof OutputFormat.Type

/**
 * An input image for editing or image-to-image: raw bytes, a URL the provider can fetch, or a local file
 * path read by the caller's edge (CLI, gateway) before the request reaches a provider.
 *
 * @since 0.1.0
 * @category Schemas
 */
export class ImageBytes extends Schema.TaggedClass<ImageBytes>("@image-gen/core/ImageBytes")("ImageBytes", {
  data: Schema.Uint8ArrayFromSelf,
  mediaType: Schema.String,
  /** A file name for multipart uploads. */
  name: Schema.optional(Schema.String)
}) {}

/**
 * @since 0.1.0
 * @category Schemas
 */
export class ImageUrl extends Schema.TaggedClass<ImageUrl>("@image-gen/core/ImageUrl")("ImageUrl", {
  url: Schema.String.pipe(
    Schema.pattern(/^(https?:\/\/|data:image\/)/, { message: () => "image URL must be http(s) or a data: URL" })
  )
}) {}

/**
 * @since 0.1.0
 * @category Schemas
 */
export const InputImage = Schema.Union(ImageBytes, ImageUrl)

/**
 * @since 0.1.0
 * @category Models
 */
export type InputImage = typeof InputImage.Type

const positiveInt = (name: string, max: number) =>
  Schema.Int.pipe(
    Schema.greaterThanOrEqualTo(1, { message: () => `${name} must be at least 1` }),
    Schema.lessThanOrEqualTo(max, { message: () => `${name} must be at most ${max}` })
  )

/**
 * A request for images. Only `prompt` is required.
 *
 * @since 0.1.0
 * @category Schemas
 */
export class ImageRequest extends Schema.Class<ImageRequest>("@image-gen/core/ImageRequest")({
  prompt: Schema.Trim.pipe(
    Schema.minLength(1, { message: () => "prompt must not be empty" }),
    Schema.maxLength(32_000, { message: () => "prompt must be at most 32000 characters" })
  ),
  /** `provider:model`, a catalog shorthand, or a full model id. */
  model: Schema.optional(Schema.String.pipe(Schema.minLength(1, { message: () => "model must not be empty" }))),
  /** Models tried in order when the previous one fails (see `ImageGen` fallback predicate). */
  fallbacks: Schema.optional(Schema.Array(Schema.String)),
  n: Schema.optional(positiveInt("n", 16)),
  size: Schema.optional(Size),
  aspectRatio: Schema.optional(AspectRatio),
  resolution: Schema.optional(Resolution),
  seed: Schema.optional(
    Schema.Int.pipe(Schema.between(0, 4_294_967_295, { message: () => "seed must be an integer from 0 to 4294967295" }))
  ),
  negativePrompt: Schema.optional(Schema.String),
  quality: Schema.optional(Schema.String),
  outputFormat: Schema.optional(OutputFormat),
  images: Schema.optional(Schema.Array(InputImage)),
  mask: Schema.optional(InputImage),
  /** Passed to the provider as-is, for parameters this library does not model. */
  providerOptions: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  /** The caller's id for this request; appears in logs and spans. */
  correlationId: Schema.optional(Schema.String),
  /** A URL the provider calls when a job finishes, for providers that support webhooks. */
  webhookUrl: Schema.optional(Schema.String)
}) {}

/**
 * The fields of an `ImageRequest`, for constructing one from plain values.
 *
 * @since 0.1.0
 * @category Models
 */
export type ImageRequestInput = typeof ImageRequest.Encoded

/**
 * Decodes a plain object into an `ImageRequest`, failing with `InvalidRequest` that names the field.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const decode = (input: unknown): Effect.Effect<ImageRequest, InvalidRequest> =>
  Schema.decodeUnknown(ImageRequest)(input, { errors: "first", onExcessProperty: "error" }).pipe(
    Effect.mapError(toInvalidRequest)
  )

/** The first issue of a parse error, as `InvalidRequest` with the field path. */
const toInvalidRequest = (error: ParseResult.ParseError): InvalidRequest => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const first = issues[0]
  if (first === undefined) return new InvalidRequest({ detail: error.message })
  const field = first.path.length === 0 ? undefined : first.path.map(String).join(".")
  const detail = first.message.startsWith("is missing") || first.message === "is missing"
    ? "is required"
    : first.message
  return field === undefined ? new InvalidRequest({ detail }) : new InvalidRequest({ field, detail })
}

/**
 * Width and height of a `WxH` size.
 *
 * @since 0.1.0
 * @category Utils
 */
export const parseSize = (size: string): { readonly width: number; readonly height: number } => {
  const [w, h] = size.split("x")
  return { width: Number(w), height: Number(h) }
}

/**
 * Width over height of a `W:H` ratio.
 *
 * @since 0.1.0
 * @category Utils
 */
export const parseAspectRatio = (ratio: string): number => {
  const [w, h] = ratio.split(":")
  return Number(w) / Number(h)
}

/**
 * Pixel dimensions for a request: the explicit size, else the ratio applied at the resolution's long edge
 * (default 1024), rounded to multiples of 8 as most models require.
 *
 * @since 0.1.0
 * @category Utils
 */
export const dimensions = (
  request: Pick<ImageRequest, "size" | "aspectRatio" | "resolution">
): { readonly width: number; readonly height: number } => {
  if (request.size !== undefined) return parseSize(request.size)
  const longEdge = resolutionLongEdge(request.resolution)
  const ratio = request.aspectRatio === undefined ? 1 : parseAspectRatio(request.aspectRatio)
  const round8 = (x: number) => Math.max(8, Math.round(x / 8) * 8)
  return ratio >= 1
    ? { width: round8(longEdge), height: round8(longEdge / ratio) }
    : { width: round8(longEdge * ratio), height: round8(longEdge) }
}

const resolutionLongEdge = (resolution: Resolution | undefined): number => {
  switch (resolution) {
    case "720p":
      return 1280
    case "1080p":
      return 1920
    case "2K":
      return 2048
    case "4K":
      return 4096
    default:
      return 1024
  }
}

/**
 * Media type of an output format.
 *
 * @since 0.1.0
 * @category Utils
 */
export const mediaTypeOf = (format: OutputFormat): string => {
  switch (format) {
    case "png":
      return "image/png"
    case "jpeg":
      return "image/jpeg"
    case "webp":
      return "image/webp"
    case "svg":
      return "image/svg+xml"
    case "mp4":
      return "video/mp4"
  }
}

/**
 * File extension of a media type, for naming saved files.
 *
 * @since 0.1.0
 * @category Utils
 */
export const extensionOf = (mediaType: string): string => {
  switch (mediaType) {
    case "image/jpeg":
      return "jpg"
    case "image/webp":
      return "webp"
    case "image/svg+xml":
      return "svg"
    case "video/mp4":
      return "mp4"
    case "image/gif":
      return "gif"
    default:
      return "png"
  }
}
