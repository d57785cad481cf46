/** Tiny valid sample files the fake serves as results (1x1 images). */
const decode = (base64: string): Uint8Array => new Uint8Array(Buffer.from(base64, "base64"))

const png = decode(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
const jpeg = decode(
  "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA="
)
const webp = decode("UklGRiQAAABXRUJQVlA4IBgAAAAwAQCdASoBAAEAAwA0JaQAA3AA/vuUAAA=")

/** The sample image for an extension (`png`, `jpeg`/`jpg`, `webp`). */
export const image = (ext: string): { readonly bytes: Uint8Array; readonly mediaType: string } => {
  switch (ext) {
    case "png":
      return { bytes: png, mediaType: "image/png" }
    case "webp":
      return { bytes: webp, mediaType: "image/webp" }
    default:
      return { bytes: jpeg, mediaType: "image/jpeg" }
  }
}
