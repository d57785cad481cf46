/**
 * Real image bytes for fake servers to answer with: solid-colour PNG and JPEG files of any size, encoded
 * by well-kept libraries (pngjs, jpeg-js) and cached, so clients can decode what a fake returns.
 *
 * @since 0.1.0
 */
import jpeg from "jpeg-js"
import { PNG } from "pngjs"

/**
 * A colour as `[r, g, b]` (0-255), or one grey level.
 *
 * @since 0.1.0
 * @category Models
 */
export type Color = readonly [number, number, number] | number

const cache = new Map<string, Uint8Array>()

const rgbOf = (color: Color): readonly [number, number, number] =>
  typeof color === "number" ? [color, color, color] : color

const cached = (key: string, make: () => Uint8Array): Uint8Array => {
  const hit = cache.get(key)
  if (hit !== undefined) return hit
  const bytes = make()
  // Fakes answer with the same few sizes over and over; keep the cache small all the same.
  if (cache.size > 64) cache.clear()
  cache.set(key, bytes)
  return bytes
}

/**
 * A solid-colour PNG of `width` x `height`: 8-bit grey for a grey level, RGB otherwise.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const png = (width: number, height: number, color: Color = [200, 80, 40]): Uint8Array =>
  cached(`png:${width}x${height}:${String(color)}`, () => {
    const image = new PNG({ width, height })
    if (typeof color === "number") {
      image.data = Buffer.alloc(width * height, color)
      return new Uint8Array(PNG.sync.write(image, { colorType: 0, inputColorType: 0, inputHasAlpha: false }))
    }
    image.data = fill(width * height, color)
    return new Uint8Array(PNG.sync.write(image, { colorType: 2, inputColorType: 2, inputHasAlpha: false }))
  })

/**
 * A solid-colour baseline JPEG of `width` x `height`.
 *
 * @since 0.1.0
 * @category Constructors
 */
export const jpegImage = (width: number, height: number, color: Color = [200, 80, 40]): Uint8Array =>
  cached(`jpeg:${width}x${height}:${String(color)}`, () => {
    const [r, g, b] = rgbOf(color)
    const data = fill(width * height, [r, g, b, 255])
    return new Uint8Array(jpeg.encode({ data, width, height }, 80).data)
  })

const fill = (pixels: number, channels: ReadonlyArray<number>): Buffer => {
  const data = Buffer.alloc(pixels * channels.length)
  for (let i = 0; i < data.length; i += channels.length) {
    for (let c = 0; c < channels.length; c++) data[i + c] = channels[c]!
  }
  return data
}
