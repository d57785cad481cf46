/**
 * `--image` and `--mask` values: http(s) and `data:image/` URLs pass through as `ImageUrl`; anything
 * else is a local file, read here and passed as `ImageBytes` with its media type sniffed from the magic
 * bytes (the extension when the bytes say nothing). A file that cannot be read is `BadInput`.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { ImageRequest } from "@image-gen/core"
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import { fileURLToPath } from "node:url"
import { CliEnv } from "./CliEnv.js"
import { BadInput } from "./CliError.js"

/**
 * The media type of image bytes, from their signature.
 *
 * @since 0.1.0
 * @category Sniffing
 */
export const sniffMediaType = (bytes: Uint8Array): string | undefined => {
  const starts = (offset: number, ...values: ReadonlyArray<number>) =>
    bytes.length >= offset + values.length && values.every((v, i) => bytes[offset + i] === v)
  const ascii = (offset: number, text: string) => starts(offset, ...Array.from(text, (c) => c.charCodeAt(0)))
  if (starts(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "image/png"
  if (starts(0, 0xff, 0xd8, 0xff)) return "image/jpeg"
  if (ascii(0, "GIF87a") || ascii(0, "GIF89a")) return "image/gif"
  if (ascii(0, "RIFF") && ascii(8, "WEBP")) return "image/webp"
  if (ascii(4, "ftypavif") || ascii(4, "ftypavis")) return "image/avif"
  if (ascii(4, "ftypheic") || ascii(4, "ftypheix") || ascii(4, "ftypmif1")) return "image/heic"
  if (ascii(0, "BM") && bytes.length > 26) return "image/bmp"
  if (starts(0, 0x49, 0x49, 0x2a, 0x00) || starts(0, 0x4d, 0x4d, 0x00, 0x2a)) return "image/tiff"
  return undefined
}

const byExtension: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
  avif: "image/avif",
  heic: "image/heic",
  bmp: "image/bmp",
  tif: "image/tiff",
  tiff: "image/tiff"
}

/**
 * The media type of a file name, from its extension.
 *
 * @since 0.1.0
 * @category Sniffing
 */
export const mediaTypeFromName = (name: string): string | undefined => {
  const dot = name.lastIndexOf(".")
  return dot === -1 ? undefined : byExtension[name.slice(dot + 1).toLowerCase()]
}

const isUrl = (value: string) => /^https?:\/\//i.test(value) || /^data:image\//i.test(value)

const reasonOf = (error: unknown): string => {
  if (Predicate.hasProperty(error, "_tag") && error._tag === "SystemError" && Predicate.hasProperty(error, "reason")) {
    switch (error.reason) {
      case "NotFound":
        return "no such file"
      case "PermissionDenied":
        return "permission denied"
      default:
        break
    }
  }
  if (Predicate.hasProperty(error, "message") && typeof error.message === "string") return error.message
  return String(error)
}

/**
 * Resolves one `--image` / `--mask` value. `what` names the flag in messages ("input image", "mask").
 *
 * @since 0.1.0
 * @category Reading
 */
export const load = (
  value: string,
  what: string = "input image"
): Effect.Effect<ImageRequest.InputImage, BadInput, FileSystem.FileSystem | Path.Path | CliEnv> =>
  Effect.gen(function*() {
    if (isUrl(value)) return new ImageRequest.ImageUrl({ url: value })
    const fail = (reason: string) => Effect.fail(new BadInput({ detail: `cannot read ${what} ${value}: ${reason}` }))
    if (value.trim() === "") return yield* fail("empty path")
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const { cwd } = yield* CliEnv
    const file = /^file:\/\//i.test(value) ? fileURLToPath(value) : path.resolve(cwd, value)
    const info = yield* fs.stat(file).pipe(Effect.catchAll((e) => fail(reasonOf(e))))
    if (info.type === "Directory") return yield* fail("is a directory")
    const data = yield* fs.readFile(file).pipe(Effect.catchAll((e) => fail(reasonOf(e))))
    if (data.byteLength === 0) return yield* fail("the file is empty")
    const mediaType = sniffMediaType(data) ?? mediaTypeFromName(file)
    if (mediaType === undefined) return yield* fail("not a PNG, JPEG, WebP or GIF image")
    return new ImageRequest.ImageBytes({ data, mediaType, name: path.basename(file) })
  })

/**
 * Resolves every `--image` value in order.
 *
 * @since 0.1.0
 * @category Reading
 */
export const loadAll = (
  values: ReadonlyArray<string>
): Effect.Effect<Array<ImageRequest.InputImage>, BadInput, FileSystem.FileSystem | Path.Path | CliEnv> =>
  Effect.forEach(values, (value) => load(value))
