/**
 * Colours as numbers, so they can be mixed, and their CSS strings for the canvas.
 */

/** @internal */
export interface Rgb {
  readonly r: number
  readonly g: number
  readonly b: number
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x))

/** Hue in degrees, saturation and lightness in [0, 1]. @internal */
export const hsl = (h: number, s: number, l: number): Rgb => {
  const hue = (((h % 360) + 360) % 360) / 360
  const sat = clamp01(s)
  const lig = clamp01(l)
  if (sat === 0) return { r: lig * 255, g: lig * 255, b: lig * 255 }
  const q = lig < 0.5 ? lig * (1 + sat) : lig + sat - lig * sat
  const p = 2 * lig - q
  const channel = (t0: number) => {
    const t = t0 < 0 ? t0 + 1 : t0 > 1 ? t0 - 1 : t0
    if (t < 1 / 6) return p + (q - p) * 6 * t
    if (t < 1 / 2) return q
    if (t < 2 / 3) return p + (q - p) * (2 / 3 - t) * 6
    return p
  }
  return { r: channel(hue + 1 / 3) * 255, g: channel(hue) * 255, b: channel(hue - 1 / 3) * 255 }
}

/** @internal */
export const mix = (a: Rgb, b: Rgb, t: number): Rgb => ({
  r: a.r + (b.r - a.r) * t,
  g: a.g + (b.g - a.g) * t,
  b: a.b + (b.b - a.b) * t
})

/** @internal */
export const white: Rgb = { r: 255, g: 255, b: 255 }

/** @internal */
export const black: Rgb = { r: 0, g: 0, b: 0 }

/** Towards white for a positive amount, towards black for a negative one. @internal */
export const shade = (c: Rgb, amount: number): Rgb => amount >= 0 ? mix(c, white, amount) : mix(c, black, -amount)

/** @internal */
export const css = (c: Rgb, alpha = 1): string =>
  `rgba(${Math.round(c.r)},${Math.round(c.g)},${Math.round(c.b)},${Math.round(clamp01(alpha) * 1000) / 1000})`
