/**
 * Getting images onto disk safely: streaming downloads of result URLs (retried by themselves, never by
 * re-running the paid job), and atomic saves (a temp file renamed into place, so a failure never leaves
 * a half-written image).
 *
 * @since 0.1.0
 */
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Path from "@effect/platform/Path"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Stream from "effect/Stream"
import * as ImageError from "./ImageError.js"
import * as ProviderHttp from "./ProviderHttp.js"
import * as Retry from "./Retry.js"

/**
 * @since 0.1.0
 * @category Models
 */
export interface DownloadOptions {
  readonly provider?: string | undefined
  readonly requestId?: string | undefined
  /** Per-try timeout. Default 60 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Default: 4 tries, waits up to 4 seconds (result URLs can expire in minutes). */
  readonly retry?: Retry.RetryOptions | undefined
}

const defaultRetry: Retry.RetryOptions = { attempts: 4, maxWait: Duration.seconds(4), baseDelay: Duration.millis(250) }

const acceptable = (mediaType: string) =>
  mediaType.startsWith("image/") || mediaType.startsWith("video/") || mediaType === "application/octet-stream"

const origin = (o: DownloadOptions) => ({
  ...(o.provider === undefined ? {} : { provider: o.provider }),
  ...(o.requestId === undefined ? {} : { requestId: o.requestId })
})

/**
 * A `data:` URL's bytes and media type, without any network.
 *
 * @since 0.1.0
 * @category Decoding
 */
export const decodeDataUrl = (
  url: string
): Effect.Effect<{ readonly bytes: Uint8Array; readonly mediaType: string }, ImageError.DownloadFailed> => {
  const match = /^data:([^;,]+)?(;base64)?,(.*)$/s.exec(url)
  if (match === null) {
    return Effect.fail(new ImageError.DownloadFailed({ url: "data:", detail: "malformed data URL" }))
  }
  const mediaType = match[1] ?? "application/octet-stream"
  if (match[2] === undefined) {
    return Effect.succeed({ bytes: new TextEncoder().encode(decodeURIComponent(match[3]!)), mediaType })
  }
  return Encoding.decodeBase64(match[3]!).pipe(
    Effect.map((bytes) => ({ bytes, mediaType })),
    Effect.mapError(() => new ImageError.DownloadFailed({ url: "data:", detail: "invalid base64 in data URL" }))
  )
}

/**
 * Opens a download: checks the status and media type, and yields the body as a stream. One try.
 */
const open = (client: HttpClient.HttpClient, url: string, options: DownloadOptions) =>
  Effect.gen(function*() {
    const response = yield* client.get(url)
    if (response.status < 200 || response.status >= 300) {
      const error = yield* ProviderHttp.fromResponse({ provider: options.provider ?? "download" }, response)
      // Retryable statuses stay retryable for the download's own retries; others end it.
      return yield* Effect.fail(
        error.retryable ? error : new ImageError.DownloadFailed({
          ...origin(options),
          url,
          status: response.status,
          detail: response.status === 403 || response.status === 404 || response.status === 410
            ? "the result URL is gone or expired"
            : error.message
        })
      )
    }
    const mediaType = (response.headers["content-type"] ?? "application/octet-stream").split(";")[0]!.trim()
    if (!acceptable(mediaType)) {
      return yield* Effect.fail(
        new ImageError.DownloadFailed({ ...origin(options), url, detail: `expected an image, got ${mediaType}` })
      )
    }
    const length = response.headers["content-length"]
    return { response, mediaType, expected: length === undefined ? undefined : Number(length) }
  })

const transportError = (url: string, options: DownloadOptions) => (error: unknown) =>
  ImageError.isImageError(error)
    ? error
    : new ImageError.TransportError({
      ...origin(options),
      detail: `download of ${ImageError.redactUrl(url)} interrupted: ${
        error instanceof Error ? error.message : String(error)
      }`
    })

const finalError = (url: string, options: DownloadOptions) => (error: ImageError.ImageError) =>
  error._tag === "DownloadFailed" || error._tag === "SaveFailed"
    ? error
    : new ImageError.DownloadFailed({ ...origin(options), url, detail: error.message })

/**
 * Downloads a URL into memory. Retries transient failures (5xx, 429, reset or truncated bodies) by
 * itself; the final failure is `DownloadFailed` carrying the request id.
 *
 * @since 0.1.0
 * @category Downloading
 */
export const download = (
  url: string,
  options: DownloadOptions = {}
): Effect.Effect<
  { readonly bytes: Uint8Array; readonly mediaType: string },
  ImageError.DownloadFailed,
  HttpClient.HttpClient
> =>
  url.startsWith("data:") ? decodeDataUrl(url) : Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(60))
    const once = Effect.scoped(
      Effect.gen(function*() {
        const { expected, mediaType, response } = yield* open(client, url, options)
        const bytes = new Uint8Array(yield* response.arrayBuffer)
        if (expected !== undefined && bytes.byteLength !== expected) {
          return yield* Effect.fail(
            new ImageError.TransportError({
              ...origin(options),
              detail: `truncated download: ${bytes.byteLength} of ${expected} bytes`
            })
          )
        }
        return { bytes, mediaType }
      })
    ).pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () =>
          new ImageError.RequestTimeout({ ...origin(options), timeoutMillis: Duration.toMillis(timeout) })
      }),
      Effect.mapError(transportError(url, options))
    )
    return yield* Retry.retry(() => once, options.retry ?? defaultRetry).pipe(
      Effect.mapError(finalError(url, options)),
      Effect.mapError((e) => e as ImageError.DownloadFailed)
    )
  }).pipe(Effect.withSpan("image_gen.download", { attributes: { "url.full": ImageError.redactUrl(url) } }))

/**
 * Writes bytes to `path` atomically: a temp file beside it, then a rename.
 *
 * @since 0.1.0
 * @category Saving
 */
export const saveBytes = (
  bytes: Uint8Array,
  path: string
): Effect.Effect<void, ImageError.SaveFailed, FileSystem.FileSystem | Path.Path> =>
  atomically<never>(path, (fs, temp) => fs.writeFile(temp, bytes)).pipe(
    Effect.withSpan("image_gen.save", { attributes: { "file.path": path, "file.size": bytes.byteLength } })
  )

/**
 * Streams a URL to `path` atomically without holding the image in memory. Retries the download by
 * itself; a failure leaves nothing at `path`.
 *
 * @since 0.1.0
 * @category Saving
 */
export const saveUrl = (
  url: string,
  path: string,
  options: DownloadOptions = {}
): Effect.Effect<
  { readonly mediaType: string; readonly size: number },
  ImageError.DownloadFailed | ImageError.SaveFailed,
  HttpClient.HttpClient | FileSystem.FileSystem | Path.Path
> =>
  url.startsWith("data:")
    ? Effect.flatMap(decodeDataUrl(url), ({ bytes, mediaType }) =>
      Effect.as(saveBytes(bytes, path), { mediaType, size: bytes.byteLength }))
    : Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      const timeout = Duration.decode(options.timeout ?? Duration.seconds(120))
      const once = (fs: FileSystem.FileSystem, temp: string) =>
        Effect.scoped(Effect.gen(function*() {
          const { expected, mediaType, response } = yield* open(client, url, options)
          let size = 0
          yield* HttpClientResponse.stream(Effect.succeed(response)).pipe(
            Stream.tap((chunk) =>
              Effect.sync(() => (size += chunk.byteLength))
            ),
            Stream.run(fs.sink(temp))
          )
          if (expected !== undefined && size !== expected) {
            return yield* Effect.fail(
              new ImageError.TransportError({
                ...origin(options),
                detail: `truncated download: ${size} of ${expected} bytes`
              })
            )
          }
          return { mediaType, size }
        })).pipe(
          Effect.timeoutFail({
            duration: timeout,
            onTimeout: () =>
              new ImageError.RequestTimeout({ ...origin(options), timeoutMillis: Duration.toMillis(timeout) })
          }),
          Effect.mapError(transportError(url, options))
        )
      let result: { readonly mediaType: string; readonly size: number } = { mediaType: "", size: 0 }
      yield* atomically(path, (fs, temp) =>
        Retry.retry(() => once(fs, temp), options.retry ?? defaultRetry).pipe(
          Effect.tap((r) => Effect.sync(() => (result = r))),
          Effect.mapError(finalError(url, options))
        ), options)
      return result
    }).pipe(
      Effect.withSpan("image_gen.save", { attributes: { "file.path": path, "url.full": ImageError.redactUrl(url) } })
    )

/**
 * Runs `write` against a temp file next to `path` and renames it into place; on any failure the temp file
 * is removed. File system failures become `SaveFailed`.
 */
const atomically = <E>(
  path: string,
  write: (fs: FileSystem.FileSystem, temp: string) => Effect.Effect<unknown, E | PlatformError>,
  options: DownloadOptions = {}
): Effect.Effect<void, E | ImageError.SaveFailed, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const pathApi = yield* Path.Path
    const dir = pathApi.dirname(pathApi.resolve(path))
    const temp = pathApi.join(dir, `.${pathApi.basename(path)}.${crypto.randomUUID().slice(0, 8)}.part`)
    yield* write(fs, temp).pipe(
      Effect.zipRight(fs.rename(temp, path)),
      Effect.onError(() => fs.remove(temp).pipe(Effect.ignore)),
      Effect.catchIf(
        isPlatformError,
        (error) => Effect.fail(new ImageError.SaveFailed({ ...origin(options), path, detail: error.message }))
      )
    )
  })

const isPlatformError = (u: unknown): u is PlatformError =>
  typeof u === "object" && u !== null && "_tag" in u && (u._tag === "SystemError" || u._tag === "BadArgument")

/**
 * Checks before any paid call that `path` can be written: its directory exists and is writable, and it
 * is not a directory. Writes nothing.
 *
 * @since 0.1.0
 * @category Saving
 */
export const checkWritable = (
  path: string
): Effect.Effect<void, ImageError.InvalidRequest, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const pathApi = yield* Path.Path
    const fail = (detail: string) => Effect.fail(new ImageError.InvalidRequest({ field: "output", detail }))
    const absolute = pathApi.resolve(path)
    const dir = pathApi.dirname(absolute)
    const dirInfo = yield* fs.stat(dir).pipe(Effect.option)
    if (dirInfo._tag === "None") return yield* fail(`directory ${dir} does not exist`)
    if (dirInfo.value.type !== "Directory") return yield* fail(`${dir} is not a directory`)
    const target = yield* fs.stat(absolute).pipe(Effect.option)
    if (target._tag === "Some" && target.value.type === "Directory") return yield* fail(`${path} is a directory`)
    const probe = pathApi.join(dir, `.image-gen-probe-${crypto.randomUUID().slice(0, 8)}`)
    const writable = yield* fs.writeFile(probe, new Uint8Array()).pipe(
      Effect.zipRight(fs.remove(probe)),
      Effect.as(true),
      Effect.orElseSucceed(() => false)
    )
    if (!writable) return yield* fail(`directory ${dir} is not writable`)
  })
