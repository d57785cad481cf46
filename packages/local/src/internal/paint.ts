/**
 * The drawing: a landscape or an abstract composition planned from the prompt, an input image drawn
 * cover-fit, and the caption band with the prompt.
 */
import type { Image, SKRSContext2D } from "@napi-rs/canvas"
import * as Color from "./color.js"
import type { Rgb } from "./color.js"
import type { Random } from "./random.js"
import type { Scene } from "./scene.js"

type Ctx = SKRSContext2D

/** The font family the renderer registers. @internal */
export const fontFamily = "ImageGen Inter"

interface Frame {
  readonly ctx: Ctx
  readonly rng: Random
  readonly width: number
  readonly height: number
  /** The shorter side: sizes of shapes scale with it. */
  readonly unit: number
}

interface Palette {
  readonly skyTop: Rgb
  readonly skyMid: Rgb
  readonly skyHorizon: Rgb
  /** The colour of the light: sun, glow, reflections. */
  readonly light: Rgb
  /** The nearest land, the darkest layer. */
  readonly land: Rgb
  readonly water: Rgb
  /** How lit the foreground objects are, 0 (silhouette) to 1. */
  readonly lit: number
}

const palette = (scene: Scene, rng: Random): Palette => {
  const j = () => rng.range(-8, 8)
  const base = ((): Palette => {
    switch (scene.time) {
      case "sunset":
        return {
          skyTop: Color.hsl(250 + j(), 0.45, 0.2),
          skyMid: Color.hsl(338 + j(), 0.62, 0.5),
          skyHorizon: Color.hsl(30 + j() / 2, 0.96, 0.62),
          light: Color.hsl(40, 1, 0.72),
          land: Color.hsl(275 + j(), 0.32, 0.1),
          water: Color.hsl(265 + j(), 0.4, 0.22),
          lit: 0.55
        }
      case "sunrise":
        return {
          skyTop: Color.hsl(212 + j(), 0.5, 0.42),
          skyMid: Color.hsl(345 + j(), 0.66, 0.76),
          skyHorizon: Color.hsl(42 + j() / 2, 0.95, 0.8),
          light: Color.hsl(48, 1, 0.85),
          land: Color.hsl(235 + j(), 0.25, 0.2),
          water: Color.hsl(215 + j(), 0.4, 0.4),
          lit: 0.7
        }
      case "night":
        return {
          skyTop: Color.hsl(232 + j(), 0.55, 0.06),
          skyMid: Color.hsl(226 + j(), 0.48, 0.14),
          skyHorizon: Color.hsl(214 + j(), 0.42, 0.3),
          light: Color.hsl(50, 0.35, 0.9),
          land: Color.hsl(228 + j(), 0.35, 0.05),
          water: Color.hsl(222 + j(), 0.45, 0.12),
          lit: 0.25
        }
      case "storm":
        return {
          skyTop: Color.hsl(215 + j(), 0.14, 0.26),
          skyMid: Color.hsl(210 + j(), 0.12, 0.44),
          skyHorizon: Color.hsl(205 + j(), 0.14, 0.66),
          light: Color.hsl(200, 0.3, 0.9),
          land: Color.hsl(200 + j(), 0.15, 0.16),
          water: Color.hsl(205 + j(), 0.18, 0.32),
          lit: 0.6
        }
      case "day":
        return {
          skyTop: Color.hsl(213 + j(), 0.72, 0.44),
          skyMid: Color.hsl(204 + j(), 0.72, 0.64),
          skyHorizon: Color.hsl(194 + j(), 0.6, 0.87),
          light: Color.hsl(50, 1, 0.92),
          land: scene.desert
            ? Color.hsl(28 + j(), 0.55, 0.42)
            : scene.snow
            ? Color.hsl(212 + j(), 0.22, 0.72)
            : scene.autumn
            ? Color.hsl(22 + j(), 0.55, 0.3)
            : Color.hsl(128 + j(), 0.38, 0.24),
          water: Color.hsl(205 + j(), 0.62, 0.4),
          lit: 1
        }
    }
  })()
  let p = base
  if (scene.desert && scene.time !== "night") {
    p = { ...p, skyHorizon: Color.mix(p.skyHorizon, Color.hsl(38, 0.8, 0.78), 0.5) }
  }
  if (scene.snow && scene.time !== "night") {
    p = { ...p, skyHorizon: Color.mix(p.skyHorizon, Color.white, 0.35), skyMid: Color.mix(p.skyMid, Color.white, 0.15) }
  }
  if (scene.fire) {
    p = {
      ...p,
      skyMid: Color.mix(p.skyMid, Color.hsl(8, 0.85, 0.45), 0.5),
      skyHorizon: Color.mix(p.skyHorizon, Color.hsl(22, 1, 0.55), 0.6),
      light: Color.hsl(30, 1, 0.65)
    }
  }
  return p
}

// ---------------------------------------------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------------------------------------------

/** A smooth ridge line: a few sines with random phases. */
const smoothRidge = (rng: Random, width: number, base: number, amplitude: number): (x: number) => number => {
  const waves = Array.from({ length: 3 }, (_, i) => ({
    a: amplitude / (i + 1) * rng.range(0.6, 1),
    f: (i + 1) * rng.range(0.6, 1.4) * Math.PI * 2 / width,
    p: rng.range(0, Math.PI * 2)
  }))
  return (x) => base - waves.reduce((sum, w) => sum + w.a * (0.5 + 0.5 * Math.sin(w.f * x + w.p)), 0)
}

/** A jagged ridge by midpoint displacement, returned as a function of x. */
const jaggedRidge = (rng: Random, width: number, base: number, amplitude: number): (x: number) => number => {
  const count = 65
  const ys = new Array<number>(count).fill(0)
  ys[0] = rng.range(0.1, 0.7)
  ys[count - 1] = rng.range(0.1, 0.7)
  let step = count - 1
  let spread = 0.9
  while (step > 1) {
    const half = step / 2
    for (let i = half; i < count; i += step) {
      ys[i] = (ys[i - half]! + ys[i + half]!) / 2 + rng.range(-spread, spread) / 2
    }
    step = half
    spread *= 0.55
  }
  const min = Math.min(...ys)
  const max = Math.max(...ys)
  const norm = ys.map((y) => (y - min) / Math.max(1e-6, max - min))
  return (x) => {
    const t = Math.min(count - 1, Math.max(0, (x / width) * (count - 1)))
    const i = Math.min(count - 2, Math.floor(t))
    const f = t - i
    return base - amplitude * (norm[i]! * (1 - f) + norm[i + 1]! * f)
  }
}

const fillBelow = (f: Frame, ridge: (x: number) => number, fill: string | CanvasGradientLike) => {
  const { ctx, height, width } = f
  ctx.beginPath()
  ctx.moveTo(0, height)
  const step = Math.max(2, width / 256)
  for (let x = 0; x <= width + step; x += step) ctx.lineTo(Math.min(x, width), ridge(Math.min(x, width)))
  ctx.lineTo(width, height)
  ctx.closePath()
  ctx.fillStyle = fill
  ctx.fill()
}

type CanvasGradientLike = ReturnType<Ctx["createLinearGradient"]>

const verticalGradient = (f: Frame, y0: number, y1: number, stops: ReadonlyArray<readonly [number, string]>) => {
  const g = f.ctx.createLinearGradient(0, y0, 0, y1)
  for (const [at, color] of stops) g.addColorStop(at, color)
  return g
}

const glow = (f: Frame, x: number, y: number, radius: number, color: Rgb, alpha: number) => {
  const { ctx } = f
  const g = ctx.createRadialGradient(x, y, 0, x, y, radius)
  g.addColorStop(0, Color.css(color, alpha))
  g.addColorStop(0.25, Color.css(color, alpha * 0.55))
  g.addColorStop(0.6, Color.css(color, alpha * 0.15))
  g.addColorStop(1, Color.css(color, 0))
  ctx.fillStyle = g
  ctx.fillRect(x - radius, y - radius, radius * 2, radius * 2)
}

const disc = (f: Frame, x: number, y: number, r: number, fill: string | CanvasGradientLike) => {
  f.ctx.beginPath()
  f.ctx.arc(x, y, r, 0, Math.PI * 2)
  f.ctx.fillStyle = fill
  f.ctx.fill()
}

// ---------------------------------------------------------------------------------------------------------------
// Landscape
// ---------------------------------------------------------------------------------------------------------------

const drawStars = (f: Frame, horizon: number, p: Palette) => {
  const { ctx, rng, width } = f
  const count = Math.round((width * horizon) / 2600)
  for (let i = 0; i < count; i++) {
    const x = rng.range(0, width)
    const y = Math.pow(rng.next(), 1.4) * horizon * 0.95
    const r = Math.pow(rng.next(), 3) * f.unit * 0.0035 + 0.5
    const fade = 1 - y / horizon
    ctx.fillStyle = Color.css(Color.mix(Color.white, p.light, rng.next()), rng.range(0.35, 1) * fade)
    ctx.beginPath()
    ctx.arc(x, y, r, 0, Math.PI * 2)
    ctx.fill()
    if (r > f.unit * 0.0025) glow(f, x, y, r * 6, Color.white, 0.25 * fade)
  }
}

const drawMoon = (f: Frame, x: number, y: number, r: number, p: Palette) => {
  glow(f, x, y, r * 7, p.light, 0.22)
  const body = f.ctx.createRadialGradient(x - r * 0.3, y - r * 0.3, r * 0.1, x, y, r)
  body.addColorStop(0, Color.css(Color.hsl(50, 0.5, 0.97)))
  body.addColorStop(1, Color.css(Color.hsl(45, 0.25, 0.8)))
  disc(f, x, y, r, body)
  for (let i = 0; i < 5; i++) {
    const a = f.rng.range(0, Math.PI * 2)
    const d = f.rng.range(0, r * 0.6)
    disc(
      f,
      x + Math.cos(a) * d,
      y + Math.sin(a) * d,
      r * f.rng.range(0.08, 0.22),
      Color.css(Color.hsl(40, 0.15, 0.55), 0.16)
    )
  }
}

const drawSun = (f: Frame, x: number, y: number, r: number, p: Palette, low: boolean) => {
  glow(f, x, y, r * (low ? 9 : 7), p.light, low ? 0.5 : 0.45)
  const body = f.ctx.createRadialGradient(x, y, 0, x, y, r)
  body.addColorStop(0, Color.css(Color.shade(p.light, low ? 0.55 : 0.75)))
  body.addColorStop(0.75, Color.css(Color.shade(p.light, low ? 0.15 : 0.35)))
  body.addColorStop(1, Color.css(low ? Color.mix(p.light, p.skyHorizon, 0.6) : Color.shade(p.light, 0.2)))
  disc(f, x, y, r, body)
}

const drawClouds = (f: Frame, horizon: number, p: Palette, sunX: number, scene: Scene) => {
  const { ctx, rng, unit, width } = f
  if (scene.time === "sunset" || scene.time === "sunrise") {
    // Long thin clouds lit from below.
    const count = rng.int(4, 7)
    for (let i = 0; i < count; i++) {
      const y = rng.range(0.12, 0.8) * horizon
      const x = rng.range(-0.1, 1.1) * width
      const w = rng.range(0.18, 0.45) * width
      const h = rng.range(0.008, 0.022) * f.height
      const near = Math.max(0, 1 - Math.abs(x - sunX) / width)
      const color = Color.mix(p.skyMid, p.light, 0.35 + 0.4 * near * (y / horizon))
      ctx.fillStyle = Color.css(color, rng.range(0.35, 0.65))
      ctx.beginPath()
      ctx.ellipse(x, y, w / 2, h, 0, 0, Math.PI * 2)
      ctx.fill()
      ctx.fillStyle = Color.css(Color.shade(color, 0.2), 0.35)
      ctx.beginPath()
      ctx.ellipse(x + w * 0.08, y + h * 0.3, w * 0.32, h * 0.5, 0, 0, Math.PI * 2)
      ctx.fill()
    }
    return
  }
  const storm = scene.time === "storm"
  if (scene.time === "night") return
  const count = storm ? rng.int(6, 9) : scene.desert ? rng.int(0, 1) : rng.int(2, 4)
  for (let i = 0; i < count; i++) {
    const size = rng.range(0.05, storm ? 0.12 : 0.08) * unit * 1.4
    let cx = rng.range(0, 1) * width
    // Keep clear of the sun on fair days.
    if (!storm && Math.abs(cx - sunX) < size * 4) cx = (cx + width / 2) % width
    const cy = rng.range(0.1, storm ? 0.6 : 0.5) * horizon
    const base: Rgb = storm ? Color.hsl(210, 0.08, rng.range(0.35, 0.6)) : Color.white
    const puffs = rng.int(5, 8)
    const shapes = Array.from({ length: puffs }, (_, k) => {
      const lift = Math.sin((k / (puffs - 1)) * Math.PI)
      return {
        x: cx + (k - (puffs - 1) / 2) * size * 0.7 + rng.range(-size * 0.15, size * 0.15),
        y: cy - lift * size * rng.range(0.35, 0.7),
        r: size * (0.5 + lift * rng.range(0.35, 0.55))
      }
    })
    const shadow = storm ? Color.shade(base, -0.25) : Color.mix(base, p.skyMid, 0.5)
    const alpha = storm ? 0.85 : 0.95
    // The shaded underside first, then the lit tops a little higher, then a flat soft base.
    for (const s of shapes) softDisc(f, s.x, s.y + s.r * 0.14, s.r, shadow, alpha)
    ctx.save()
    ctx.translate(cx, cy + size * 0.2)
    ctx.scale(1, 0.28)
    softDisc(f, 0, 0, size * puffs * 0.3, shadow, alpha * 0.7)
    ctx.restore()
    for (const s of shapes) softDisc(f, s.x, s.y - s.r * 0.04, s.r * 0.88, base, alpha)
  }
}

/** A disc with a soft edge. */
const softDisc = (f: Frame, x: number, y: number, r: number, color: Rgb, alpha: number) => {
  const g = f.ctx.createRadialGradient(x, y, 0, x, y, r)
  g.addColorStop(0, Color.css(color, alpha))
  g.addColorStop(0.72, Color.css(color, alpha))
  g.addColorStop(1, Color.css(color, 0))
  f.ctx.fillStyle = g
  f.ctx.beginPath()
  f.ctx.arc(x, y, r, 0, Math.PI * 2)
  f.ctx.fill()
}

const drawBirds = (f: Frame, horizon: number, color: Rgb, cx: number) => {
  const { ctx, rng, unit, width } = f
  const count = rng.int(3, 6)
  const cy = horizon * rng.range(0.2, 0.45)
  ctx.strokeStyle = Color.css(color, 0.85)
  ctx.lineWidth = Math.max(1, unit * 0.004)
  ctx.lineCap = "round"
  for (let i = 0; i < count; i++) {
    const x = cx + rng.range(-0.14, 0.14) * width
    const y = cy + rng.range(-0.08, 0.08) * horizon
    const s = unit * rng.range(0.012, 0.022)
    const flap = rng.range(-0.3, 0.4) * s
    ctx.beginPath()
    ctx.moveTo(x - s, y - flap)
    ctx.quadraticCurveTo(x - s * 0.45, y - s * 0.5, x, y)
    ctx.quadraticCurveTo(x + s * 0.45, y - s * 0.5, x + s, y - flap)
    ctx.stroke()
  }
}

const drawConifer = (f: Frame, x: number, ground: number, h: number, color: Rgb) => {
  const { ctx } = f
  const w = h * 0.42
  ctx.fillStyle = Color.css(color)
  ctx.fillRect(x - w * 0.06, ground - h * 0.18, w * 0.12, h * 0.2)
  ctx.beginPath()
  const tiers = 3
  for (let t = 0; t < tiers; t++) {
    const bottom = ground - h * 0.12 - t * h * 0.24
    const top = bottom - h * 0.46
    const half = w * (0.5 - t * 0.1)
    ctx.moveTo(x - half, bottom)
    ctx.lineTo(x, top)
    ctx.lineTo(x + half, bottom)
    ctx.closePath()
  }
  ctx.fill()
}

const drawRoundTree = (f: Frame, x: number, ground: number, h: number, trunk: Rgb, crown: Rgb) => {
  const { ctx, rng } = f
  ctx.fillStyle = Color.css(trunk)
  ctx.fillRect(x - h * 0.035, ground - h * 0.5, h * 0.07, h * 0.52)
  for (let i = 0; i < 4; i++) {
    const r = h * rng.range(0.2, 0.28)
    disc(f, x + rng.range(-0.15, 0.15) * h, ground - h * 0.62 + rng.range(-0.12, 0.1) * h, r, Color.css(crown))
  }
}

const drawHouse = (f: Frame, x: number, ground: number, size: number, body: Rgb, p: Palette, windowsLit: boolean) => {
  const { ctx } = f
  const w = size
  const h = size * 0.62
  ctx.fillStyle = Color.css(body)
  ctx.fillRect(x - w / 2, ground - h, w, h + size * 0.1)
  ctx.beginPath()
  ctx.moveTo(x - w * 0.62, ground - h)
  ctx.lineTo(x, ground - h - size * 0.5)
  ctx.lineTo(x + w * 0.62, ground - h)
  ctx.closePath()
  ctx.fillStyle = Color.css(Color.shade(body, -0.25))
  ctx.fill()
  ctx.fillRect(x + w * 0.22, ground - h - size * 0.42, w * 0.12, size * 0.25)
  const windowColor = windowsLit ? Color.hsl(44, 1, 0.68) : Color.mix(p.skyMid, Color.white, 0.3)
  if (windowsLit) glow(f, x - w * 0.2, ground - h * 0.55, size * 0.6, windowColor, 0.3)
  ctx.fillStyle = Color.css(windowColor)
  ctx.fillRect(x - w * 0.3, ground - h * 0.7, w * 0.2, h * 0.3)
  ctx.fillStyle = Color.css(Color.shade(body, -0.4))
  ctx.fillRect(x + w * 0.08, ground - h * 0.6, w * 0.2, h * 0.6)
}

const drawBoat = (f: Frame, x: number, y: number, size: number, color: Rgb, sail: Rgb) => {
  const { ctx } = f
  ctx.fillStyle = Color.css(color)
  ctx.beginPath()
  ctx.moveTo(x - size * 0.5, y - size * 0.12)
  ctx.lineTo(x + size * 0.5, y - size * 0.12)
  ctx.lineTo(x + size * 0.36, y)
  ctx.lineTo(x - size * 0.38, y)
  ctx.closePath()
  ctx.fill()
  ctx.fillRect(x - size * 0.015, y - size * 0.95, size * 0.03, size * 0.85)
  ctx.fillStyle = Color.css(sail)
  ctx.beginPath()
  ctx.moveTo(x + size * 0.03, y - size * 0.92)
  ctx.lineTo(x + size * 0.03, y - size * 0.18)
  ctx.lineTo(x + size * 0.4, y - size * 0.18)
  ctx.closePath()
  ctx.fill()
  ctx.beginPath()
  ctx.moveTo(x - size * 0.03, y - size * 0.8)
  ctx.lineTo(x - size * 0.03, y - size * 0.2)
  ctx.lineTo(x - size * 0.32, y - size * 0.2)
  ctx.closePath()
  ctx.fill()
  // reflection
  ctx.fillStyle = Color.css(color, 0.25)
  ctx.fillRect(x - size * 0.36, y + size * 0.02, size * 0.72, size * 0.05)
}

const drawLighthouse = (
  f: Frame,
  x: number,
  ground: number,
  h: number,
  p: Palette,
  sunSide: number,
  beams: boolean
) => {
  const { ctx } = f
  const base = h * 0.2
  const top = base * 0.68
  const towerTop = ground - h * 0.78
  const bodyLight = Color.mix(Color.shade(p.land, 0.15), Color.mix(Color.white, p.light, 0.25), p.lit)
  const bodyDark = Color.mix(p.land, bodyLight, 0.45)
  const stripe = Color.mix(Color.shade(p.land, 0.05), Color.hsl(356, 0.72, 0.46), p.lit)
  const stripeDark = Color.mix(p.land, stripe, 0.5)
  // Shaded across: the side facing the light is brighter.
  const across = (light: Rgb, dark: Rgb) => {
    const g = ctx.createLinearGradient(x - base / 2, 0, x + base / 2, 0)
    g.addColorStop(0, Color.css(sunSide < 0 ? light : dark))
    g.addColorStop(0.5, Color.css(Color.mix(light, dark, 0.35)))
    g.addColorStop(1, Color.css(sunSide < 0 ? dark : light))
    return g
  }
  const halfAt = (y: number) => (top + (base - top) * ((y - towerTop) / (ground - towerTop))) / 2
  const band = (y0: number, y1: number, fill: string | CanvasGradientLike) => {
    ctx.beginPath()
    ctx.moveTo(x - halfAt(y0), y0)
    ctx.lineTo(x + halfAt(y0), y0)
    ctx.lineTo(x + halfAt(y1), y1)
    ctx.lineTo(x - halfAt(y1), y1)
    ctx.closePath()
    ctx.fillStyle = fill
    ctx.fill()
  }
  band(towerTop, ground + h * 0.02, across(bodyLight, bodyDark))
  const stripes = 3
  const span = ground - towerTop
  for (let i = 0; i < stripes; i++) {
    const y0 = towerTop + span * (0.1 + i * 0.3)
    band(y0, y0 + span * 0.14, across(stripe, stripeDark))
  }
  // Gallery, lantern room, roof.
  const gallery = top * 1.5
  ctx.fillStyle = Color.css(Color.shade(p.land, 0.05))
  ctx.fillRect(x - gallery / 2, towerTop - h * 0.03, gallery, h * 0.035)
  ctx.fillRect(x - gallery / 2, towerTop - h * 0.075, h * 0.008, h * 0.05)
  ctx.fillRect(x + gallery / 2 - h * 0.008, towerTop - h * 0.075, h * 0.008, h * 0.05)
  ctx.fillRect(x - gallery / 2, towerTop - h * 0.078, gallery, h * 0.007)
  const lanternW = top * 0.78
  const lanternH = h * 0.1
  const lanternY = towerTop - h * 0.03 - lanternH
  const lamp = Color.hsl(46, 1, 0.7)
  const lampY = lanternY + lanternH * 0.5
  if (beams) {
    for (const dir of [-1, 1]) {
      const reach = f.width * 0.55
      const g = ctx.createLinearGradient(x, lampY, x + dir * reach, lampY)
      g.addColorStop(0, Color.css(lamp, 0.5))
      g.addColorStop(1, Color.css(lamp, 0))
      ctx.fillStyle = g
      ctx.beginPath()
      ctx.moveTo(x, lampY - lanternH * 0.15)
      ctx.lineTo(x + dir * reach, lampY - h * (dir < 0 ? 0.2 : 0.12))
      ctx.lineTo(x + dir * reach, lampY + h * (dir < 0 ? 0.05 : 0.1))
      ctx.lineTo(x, lampY + lanternH * 0.15)
      ctx.closePath()
      ctx.fill()
    }
  }
  glow(f, x, lampY, h * (beams ? 0.45 : 0.25), lamp, beams ? 0.6 : 0.35)
  ctx.fillStyle = Color.css(Color.shade(lamp, 0.4))
  ctx.fillRect(x - lanternW / 2, lanternY, lanternW, lanternH)
  ctx.fillStyle = Color.css(Color.shade(p.land, 0.05))
  for (const k of [0, 0.5, 1]) {
    ctx.fillRect(x - lanternW / 2 + k * (lanternW - h * 0.008), lanternY, h * 0.008, lanternH)
  }
  ctx.beginPath()
  ctx.moveTo(x - lanternW * 0.62, lanternY)
  ctx.quadraticCurveTo(x, lanternY - h * 0.12, x + lanternW * 0.62, lanternY)
  ctx.closePath()
  ctx.fillStyle = Color.css(Color.mix(p.land, Color.hsl(356, 0.6, 0.3), p.lit * 0.8))
  ctx.fill()
  ctx.fillRect(x - h * 0.004, lanternY - h * 0.1, h * 0.008, h * 0.05)
}

const drawSkyline = (f: Frame, horizon: number, p: Palette, night: boolean) => {
  const { ctx, rng, unit, width } = f
  const far = Color.mix(p.land, p.skyHorizon, 0.5)
  const near = Color.mix(p.land, p.skyHorizon, 0.15)
  for (const [layer, color] of [[0, far], [1, near]] as const) {
    let x = -rng.range(0, unit * 0.05)
    while (x < width) {
      const w = unit * rng.range(0.04, 0.09)
      const h = unit * (layer === 0 ? rng.range(0.08, 0.26) : rng.range(0.05, 0.18))
      const top = horizon - h
      ctx.fillStyle = Color.css(color)
      ctx.fillRect(x, top, w, h + 1)
      if (rng.chance(0.25)) ctx.fillRect(x + w * 0.45, top - h * 0.15, w * 0.08, h * 0.15)
      const lit = night ? 0.45 : p.lit < 0.7 ? 0.25 : 0
      if (lit > 0) {
        const cell = Math.max(3, unit * 0.012)
        for (let wy = top + cell; wy < horizon - cell; wy += cell * 1.8) {
          for (let wx = x + cell * 0.7; wx < x + w - cell; wx += cell * 1.6) {
            if (rng.chance(lit)) {
              ctx.fillStyle = Color.css(Color.hsl(rng.pick([44, 38, 190]), 0.9, 0.7), layer === 0 ? 0.5 : 0.85)
              ctx.fillRect(wx, wy, cell * 0.7, cell * 0.9)
            }
          }
        }
      }
      x += w + unit * rng.range(0, 0.012)
    }
  }
}

const drawLandscape = (f: Frame, scene: Scene) => {
  const { ctx, height, rng, unit, width } = f
  const p = palette(scene, rng)
  const horizon = height * rng.range(0.56, 0.62)
  const low = scene.time === "sunset" || scene.time === "sunrise"
  const night = scene.time === "night"

  // Sky
  ctx.fillStyle = verticalGradient(f, 0, horizon, [
    [0, Color.css(p.skyTop)],
    [0.55, Color.css(p.skyMid)],
    [1, Color.css(p.skyHorizon)]
  ])
  ctx.fillRect(0, 0, width, height)

  // Where the light comes from; the cliff goes on the other side.
  const cliffSide = rng.chance(0.5) ? -1 : 1
  const hasCliff = scene.cliff
  const sunX = hasCliff
    ? width * (cliffSide < 0 ? rng.range(0.58, 0.72) : rng.range(0.28, 0.42))
    : width * rng.range(0.3, 0.7)
  const sunR = unit * (low ? rng.range(0.075, 0.095) : rng.range(0.045, 0.06))
  const sunY = low ? horizon - sunR * rng.range(0.1, 0.6) : horizon * rng.range(0.22, 0.38)
  if (low) glow(f, sunX, horizon, width * 0.7, p.light, 0.35)
  if (night) drawStars(f, horizon, p)
  // At night the moon takes the sun's place; by day it hangs on the other side.
  const moonX = night ? sunX : width * (sunX / width < 0.5 ? 0.74 : 0.26)
  if (scene.moon) drawMoon(f, moonX, horizon * rng.range(0.18, 0.32), unit * 0.055, p)
  if (scene.time === "day" || low) drawSun(f, sunX, sunY, sunR, p, low)
  if (scene.time === "storm") glow(f, sunX, sunY, unit * 0.5, p.light, 0.25)
  drawClouds(f, horizon, p, sunX, scene)

  // Far mountains or hills, fading into the horizon haze.
  const farColor = Color.mix(p.land, p.skyHorizon, 0.62)
  const midColor = Color.mix(p.land, p.skyHorizon, 0.35)
  if (scene.mountains || scene.snow) {
    const rock = Color.mix(p.land, Color.hsl(218, 0.18, 0.42), p.lit * 0.8)
    const farRock = Color.mix(rock, p.skyHorizon, 0.5)
    const nearRock = Color.mix(rock, p.skyHorizon, 0.2)
    const snowy = scene.snow || scene.time === "day"
    const cap = Color.mix(Color.white, p.skyHorizon, 0.15 + 0.6 * (1 - p.lit))
    const range = (amplitude: number, color: Rgb) => {
      const ridge = jaggedRidge(rng, width, horizon, amplitude)
      const peak = horizon - amplitude
      fillBelow(
        f,
        ridge,
        snowy
          ? verticalGradient(f, peak, horizon, [[0, Color.css(cap)], [0.3, Color.css(cap)], [0.42, Color.css(color)], [
            1,
            Color.css(color)
          ]])
          : verticalGradient(f, peak, horizon, [[0, Color.css(Color.shade(color, 0.12))], [1, Color.css(color)]])
      )
    }
    range(height * rng.range(0.22, 0.3), farRock)
    range(height * rng.range(0.1, 0.16), nearRock)
  } else if (!scene.water || !hasCliff) {
    fillBelow(f, smoothRidge(rng, width, horizon, height * 0.07), Color.css(farColor))
  }
  if (scene.city) drawSkyline(f, horizon, p, night || low)
  // Haze on the horizon.
  ctx.fillStyle = verticalGradient(f, horizon - height * 0.08, horizon + 2, [
    [0, Color.css(p.skyHorizon, 0)],
    [1, Color.css(p.skyHorizon, 0.45)]
  ])
  ctx.fillRect(0, horizon - height * 0.08, width, height * 0.08 + 2)

  let groundAt: ((x: number) => number) | undefined
  if (scene.water) {
    // Sea from the horizon down, with the light reflected in it.
    ctx.fillStyle = verticalGradient(f, horizon, height, [
      [0, Color.css(Color.mix(p.water, p.skyHorizon, 0.55))],
      [0.35, Color.css(p.water)],
      [1, Color.css(Color.shade(p.water, -0.45))]
    ])
    ctx.fillRect(0, horizon, width, height - horizon)
    const reflect = scene.time !== "storm" && (scene.time !== "night" || scene.moon)
    const rx = night ? moonX : sunX
    if (reflect) {
      const rows = Math.round((height - horizon) / Math.max(2, unit * 0.007))
      ctx.lineCap = "round"
      for (let i = 0; i < rows; i++) {
        const t = i / rows
        const y = horizon + 1 + (height - horizon) * Math.pow(t, 1.25)
        const spread = unit * (0.04 + t * 0.16) * (night ? 0.6 : 1)
        const w = unit * rng.range(0.015, 0.08) * (1 + t * 1.5) * (night ? 0.7 : 1)
        const x = rx + rng.range(-spread, spread) * rng.next()
        ctx.strokeStyle = Color.css(p.light, Math.pow(1 - t, 1.5) * rng.range(0.3, 0.75) * (night ? 0.7 : 1))
        ctx.lineWidth = Math.max(1, unit * 0.0035 * (1 + t))
        ctx.beginPath()
        ctx.moveTo(x - w / 2, y)
        ctx.lineTo(x + w / 2, y)
        ctx.stroke()
      }
    }
    ctx.strokeStyle = Color.css(Color.shade(p.water, 0.3), 0.18)
    ctx.lineWidth = Math.max(1, unit * 0.002)
    for (let i = 0; i < 26; i++) {
      const y = horizon + (height - horizon) * Math.pow(rng.next(), 1.6)
      const x = rng.range(0, width)
      const w = unit * rng.range(0.03, 0.12) * (1 + (y - horizon) / height * 3)
      ctx.beginPath()
      ctx.moveTo(x - w / 2, y)
      ctx.lineTo(x + w / 2, y)
      ctx.stroke()
    }
    if (scene.beach || (!hasCliff && (scene.forest || scene.house))) {
      // A shore rising gently towards one side.
      const shoreBase = height * rng.range(0.9, 0.95)
      const tilt = (rng.chance(0.5) ? -1 : 1) * height * rng.range(0.08, 0.14)
      const swell = smoothRidge(rng, width, 0, height * 0.025)
      const ridge = (x: number) => shoreBase + swell(x) - tilt * (x / width - 0.5) - Math.abs(tilt) * 0.5
      const sand = scene.beach ? Color.mix(Color.hsl(38, 0.55, 0.62), p.land, 1 - p.lit) : p.land
      fillBelow(f, ridge, Color.css(sand))
      groundAt = ridge
    }
  } else {
    // Rolling land in two layers.
    const mid = smoothRidge(rng, width, horizon + height * 0.1, height * 0.12)
    fillBelow(f, mid, Color.css(midColor))
    const near = smoothRidge(rng, width, horizon + height * 0.28, height * 0.14)
    const nearColor = scene.desert ? Color.mix(p.land, Color.hsl(36, 0.6, 0.55), p.lit * 0.6) : p.land
    fillBelow(
      f,
      near,
      verticalGradient(f, horizon, height, [[0, Color.css(Color.shade(nearColor, 0.08))], [
        1,
        Color.css(Color.shade(nearColor, -0.35))
      ]])
    )
    groundAt = near
    if (scene.flowers) {
      for (let i = 0; i < Math.round(width / 6); i++) {
        const x = rng.range(0, width)
        const y = near(x) + rng.range(0.01, 1) * (height - near(x))
        disc(
          f,
          x,
          y,
          unit * rng.range(0.003, 0.007),
          Color.css(Color.hsl(rng.pick([340, 50, 0, 280, 20]), 0.8, 0.7), 0.9)
        )
      }
    }
  }

  // The cliff, a dark headland coming in from one side, and the lighthouse on it.
  let cliffTop: ((x: number) => number) | undefined
  let cliffEdge = 0
  if (hasCliff) {
    const topY = horizon - height * rng.range(0.1, 0.14)
    const edge = width * rng.range(0.34, 0.42)
    cliffEdge = edge
    const toX = (d: number) => (cliffSide < 0 ? d : width - d)
    const bumps = smoothRidge(rng, width, 0, height * 0.02)
    cliffTop = (x: number) => topY - bumps(x) + height * 0.06 * Math.pow(Math.abs(x - toX(0)) / edge, 3)
    const face = Array.from({ length: 9 }, (_, i) => {
      const t = i / 8
      return {
        d: edge + width * (0.02 + 0.06 * Math.pow(t, 0.7)) + rng.range(-1, 1) * width * 0.01,
        y: cliffTop!(toX(edge)) + t * (height - topY)
      }
    })
    ctx.beginPath()
    ctx.moveTo(toX(0), height)
    ctx.lineTo(toX(0), cliffTop(toX(0)))
    const step = Math.max(2, width / 200)
    for (let d = 0; d <= edge; d += step) ctx.lineTo(toX(d), cliffTop(toX(d)))
    for (const pt of face) ctx.lineTo(toX(pt.d), pt.y)
    ctx.lineTo(toX(face[face.length - 1]!.d), height)
    ctx.closePath()
    const rock = Color.mix(p.land, Color.hsl(25, 0.3, 0.35), p.lit * 0.5)
    const shadeAcross = ctx.createLinearGradient(toX(0), 0, toX(edge + width * 0.08), 0)
    shadeAcross.addColorStop(0, Color.css(Color.shade(rock, -0.2)))
    shadeAcross.addColorStop(0.8, Color.css(rock))
    shadeAcross.addColorStop(1, Color.css(Color.mix(rock, p.light, 0.25 * p.lit)))
    ctx.fillStyle = shadeAcross
    ctx.fill()
    // Rock strata and a lit rim on the face.
    ctx.save()
    ctx.clip()
    ctx.strokeStyle = Color.css(Color.shade(rock, -0.35), 0.45)
    ctx.lineWidth = Math.max(1, unit * 0.004)
    for (let i = 0; i < 9; i++) {
      const y = topY + (height - topY) * (0.08 + i * 0.11) + rng.range(-1, 1) * height * 0.01
      const from = toX(rng.range(0, edge * 0.7))
      const to = toX(edge + width * 0.12)
      ctx.beginPath()
      ctx.moveTo(from, y)
      ctx.quadraticCurveTo(
        (from + to) / 2,
        y + rng.range(-0.5, 1) * height * 0.03,
        to,
        y + rng.range(-1, 1) * height * 0.02
      )
      ctx.stroke()
    }
    ctx.strokeStyle = Color.css(p.light, 0.35 * p.lit)
    ctx.lineWidth = Math.max(1.5, unit * 0.006)
    ctx.beginPath()
    face.forEach((pt, i) => (i === 0 ? ctx.moveTo(toX(pt.d), pt.y) : ctx.lineTo(toX(pt.d), pt.y)))
    ctx.stroke()
    ctx.restore()
    // Grass on the top.
    ctx.beginPath()
    ctx.moveTo(toX(0), cliffTop(toX(0)) + height * 0.03)
    for (let d = 0; d <= edge + width * 0.01; d += step) ctx.lineTo(toX(d), cliffTop(toX(Math.min(d, edge))) - 1)
    for (let d = edge + width * 0.01; d >= 0; d -= step) {
      ctx.lineTo(toX(d), cliffTop(toX(Math.min(d, edge))) + height * (0.012 + 0.01 * Math.sin(d * 0.05)))
    }
    ctx.closePath()
    ctx.fillStyle = Color.css(Color.mix(p.land, Color.hsl(110, 0.35, 0.3), p.lit * 0.7))
    ctx.fill()
    if (scene.lighthouse) {
      const lx = toX(edge * rng.range(0.5, 0.62))
      const beams = scene.time !== "day"
      drawLighthouse(f, lx, cliffTop(lx) + height * 0.005, height * rng.range(0.3, 0.36), p, -cliffSide, beams)
    }
  }

  // Subjects.
  const silhouette = Color.shade(p.land, -0.1)
  if (scene.boat && scene.water) {
    const bx = hasCliff
      ? (cliffSide < 0 ? width * rng.range(0.62, 0.82) : width * rng.range(0.18, 0.38))
      : width * rng.range(0.2, 0.8)
    const by = horizon + (height - horizon) * rng.range(0.2, 0.35)
    drawBoat(f, bx, by, unit * rng.range(0.09, 0.13), silhouette, Color.mix(silhouette, Color.white, 0.8 * p.lit))
  }
  const ground = groundAt
  if (scene.forest && (ground !== undefined || cliffTop !== undefined)) {
    const trees = Math.round(width / (unit * 0.05))
    for (let i = 0; i < trees; i++) {
      const x = rng.range(0, width)
      const onCliff = cliffTop !== undefined && (cliffSide < 0 ? x < cliffEdge * 0.95 : x > width - cliffEdge * 0.95)
      const gy = onCliff ? cliffTop!(x) : ground?.(x)
      if (gy === undefined || gy > height) continue
      if (scene.lighthouse && onCliff && rng.chance(0.6)) continue
      const h = unit * rng.range(0.07, 0.14)
      const color = Color.mix(silhouette, Color.hsl(130, 0.3, 0.2), p.lit * 0.5)
      if (scene.autumn || scene.flowers) {
        const crown = scene.autumn
          ? Color.hsl(rng.pick([18, 30, 42, 8]), 0.75, 0.45 * p.lit + 0.08)
          : Color.hsl(rng.pick([330, 345, 300]), 0.5, 0.75 * p.lit + 0.1)
        drawRoundTree(f, x, gy + h * 0.05, h, silhouette, crown)
      } else drawConifer(f, x, gy + h * 0.05, h, color)
    }
  }
  if (scene.house) {
    const hx = hasCliff ? (cliffSide < 0 ? cliffEdge * 0.2 : width - cliffEdge * 0.2) : width * rng.range(0.3, 0.7)
    const gy = hasCliff ? cliffTop!(hx) : ground?.(hx)
    if (gy !== undefined) {
      const paint = scene.houseHue === undefined ? Color.hsl(30, 0.3, 0.75) : Color.hsl(scene.houseHue, 0.55, 0.5)
      const body = Color.mix(silhouette, paint, p.lit * 0.8)
      drawHouse(f, hx, gy + unit * 0.01, unit * rng.range(0.09, 0.12), body, p, p.lit < 0.8)
    }
  }
  if (scene.birds || (scene.water && !night && rng.chance(0.5))) {
    // Over open sky: between the cliff and the sun, or away from the sun.
    const birdsX = hasCliff
      ? (sunX + (cliffSide < 0 ? cliffEdge : width - cliffEdge)) / 2
      : Math.abs(sunX - width * 0.3) > width * 0.2
      ? width * 0.3
      : width * 0.7
    drawBirds(f, horizon, Color.shade(p.land, 0.05), birdsX)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Abstract
// ---------------------------------------------------------------------------------------------------------------

const drawAbstract = (f: Frame, scene: Scene) => {
  const { ctx, height, rng, unit, width } = f
  // Hue families that make pleasant gradients; olive and khaki are left out.
  const h = scene.hue ?? rng.pick([215, 240, 265, 290, 320, 345, 10, 185, 165]) + rng.range(-12, 12)
  const background = ctx.createLinearGradient(0, 0, width, height)
  background.addColorStop(0, Color.css(Color.hsl(h - 25, 0.6, 0.1)))
  background.addColorStop(0.55, Color.css(Color.hsl(h + 5, 0.55, 0.2)))
  background.addColorStop(1, Color.css(Color.hsl(h + 35, 0.6, 0.3)))
  ctx.fillStyle = background
  ctx.fillRect(0, 0, width, height)
  const colors = [
    Color.hsl(h, 0.85, 0.58),
    Color.hsl(h + 40, 0.9, 0.62),
    Color.hsl(h - 45, 0.8, 0.55),
    Color.hsl(h + 170, 0.75, 0.6)
  ]
  ctx.globalCompositeOperation = "screen"
  const blobs = rng.int(5, 7)
  for (let i = 0; i < blobs; i++) {
    const c = i === blobs - 1 ? colors[3]! : colors[i % 3]!
    glow(f, rng.range(0, width), rng.range(0, height), unit * rng.range(0.35, 0.75), c, rng.range(0.45, 0.75))
  }
  ctx.globalCompositeOperation = "source-over"
  // Flowing lines like silk.
  const lines = 36
  const a = height * rng.range(0.06, 0.12)
  const freq = rng.range(1.2, 2.2) * Math.PI * 2 / width
  const phase = rng.range(0, Math.PI * 2)
  const y0 = height * rng.range(0.35, 0.55)
  const tilt = rng.range(-0.25, 0.25)
  ctx.lineWidth = Math.max(1, unit * 0.0018)
  for (let i = 0; i < lines; i++) {
    const t = i / lines
    ctx.strokeStyle = Color.css(Color.mix(Color.white, colors[1]!, t), 0.05 + 0.12 * Math.sin(t * Math.PI))
    ctx.beginPath()
    const step = Math.max(2, width / 160)
    for (let x = 0; x <= width + step; x += step) {
      const y = y0 + tilt * (x - width / 2) + (t - 0.5) * height * 0.35 +
        a * Math.sin(freq * x + phase + t * 1.6) * (0.6 + 0.4 * Math.cos(t * Math.PI))
      if (x === 0) ctx.moveTo(x, y)
      else ctx.lineTo(x, y)
    }
    ctx.stroke()
  }
  // A few soft rings and dots.
  for (let i = 0; i < 14; i++) {
    const r = unit * rng.range(0.008, 0.05)
    const x = rng.range(0, width)
    const y = rng.range(0, height)
    if (rng.chance(0.5)) {
      ctx.strokeStyle = Color.css(Color.white, rng.range(0.08, 0.25))
      ctx.lineWidth = Math.max(1, unit * 0.002)
      ctx.beginPath()
      ctx.arc(x, y, r, 0, Math.PI * 2)
      ctx.stroke()
    } else disc(f, x, y, r * 0.5, Color.css(Color.white, rng.range(0.08, 0.3)))
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Background image, vignette, caption
// ---------------------------------------------------------------------------------------------------------------

const drawCover = (f: Frame, image: Image) => {
  const { ctx, height, width } = f
  const scale = Math.max(width / image.width, height / image.height)
  const w = image.width * scale
  const h = image.height * scale
  ctx.fillStyle = "#000"
  ctx.fillRect(0, 0, width, height)
  ctx.imageSmoothingEnabled = true
  ctx.imageSmoothingQuality = "high"
  ctx.drawImage(image, (width - w) / 2, (height - h) / 2, w, h)
}

const drawVignette = (f: Frame) => {
  const { ctx, height, width } = f
  const r = Math.hypot(width, height) / 2
  const g = ctx.createRadialGradient(width / 2, height * 0.45, r * 0.45, width / 2, height * 0.45, r * 1.05)
  g.addColorStop(0, "rgba(0,0,0,0)")
  g.addColorStop(1, "rgba(0,0,0,0.38)")
  ctx.fillStyle = g
  ctx.fillRect(0, 0, width, height)
}

/** Words broken into lines that fit `maxWidth`, at most `maxLines`, the last one ending in an ellipsis when cut. */
const wrap = (ctx: Ctx, text: string, maxWidth: number, maxLines: number): Array<string> => {
  const fits = (s: string) => ctx.measureText(s).width <= maxWidth
  const lines: Array<string> = []
  let current = ""
  const words = text.split(/\s+/).filter((w) => w.length > 0)
  let cut = false
  for (const word0 of words) {
    let word = word0
    // A word wider than the line is broken by characters.
    while (!fits(word)) {
      let n = word.length - 1
      while (n > 1 && !fits(word.slice(0, n))) n--
      if (current !== "") {
        lines.push(current)
        current = ""
      }
      lines.push(word.slice(0, n))
      word = word.slice(n)
      if (lines.length >= maxLines) break
    }
    if (lines.length >= maxLines) {
      cut = true
      break
    }
    const candidate = current === "" ? word : `${current} ${word}`
    if (fits(candidate)) current = candidate
    else {
      lines.push(current)
      current = word
      if (lines.length >= maxLines) {
        cut = true
        current = ""
        break
      }
    }
  }
  if (current !== "") lines.push(current)
  if (cut || lines.length > maxLines) {
    const kept = lines.slice(0, maxLines)
    let last = kept[kept.length - 1] ?? ""
    while (last.length > 0 && !fits(`${last}…`)) last = last.slice(0, -1).trimEnd()
    kept[kept.length - 1] = `${last.replace(/[\s,.;:]+$/, "")}…`
    return kept
  }
  return lines
}

/** @internal */
export interface CaptionOptions {
  readonly text: string
  readonly meta: string | undefined
  readonly mark: string | undefined
}

const drawCaption = (f: Frame, caption: CaptionOptions) => {
  const { ctx, height, width } = f
  const size = Math.round(Math.min(56, Math.max(12, Math.min(width, height * 1.5) * 0.034)))
  const small = Math.max(10, Math.round(size * 0.46))
  const padX = Math.round(Math.max(size * 0.9, width * 0.045))
  const padY = Math.round(size * 0.85)
  const lineHeight = Math.round(size * 1.22)
  const maxLines = height < 300 ? 1 : height < 600 ? 2 : 3
  ctx.font = `600 ${size}px "${fontFamily}"`
  const lines = caption.text === "" ? [] : wrap(ctx, caption.text, width - padX * 2, maxLines)
  const metaHeight = caption.meta === undefined && caption.mark === undefined ? 0 : Math.round(small * 1.9)
  const band = padY * 2 + lines.length * lineHeight + metaHeight
  if (lines.length === 0 && metaHeight === 0) return
  const top = height - band
  ctx.fillStyle = verticalGradient(f, top - band * 0.6, height, [
    [0, "rgba(6,8,14,0)"],
    [0.4, "rgba(6,8,14,0.42)"],
    [1, "rgba(6,8,14,0.72)"]
  ])
  ctx.fillRect(0, top - band * 0.6, width, band * 1.6)
  ctx.textBaseline = "alphabetic"
  ctx.textAlign = "left"
  ctx.shadowColor = "rgba(0,0,0,0.45)"
  ctx.shadowBlur = size * 0.35
  ctx.shadowOffsetY = size * 0.05
  ctx.fillStyle = "rgba(255,255,255,0.96)"
  ctx.font = `600 ${size}px "${fontFamily}"`
  lines.forEach((line, i) => ctx.fillText(line, padX, top + padY + size * 0.92 + i * lineHeight))
  ctx.shadowBlur = 0
  ctx.shadowOffsetY = 0
  ctx.shadowColor = "rgba(0,0,0,0)"
  if (metaHeight > 0) {
    const y = height - padY - small * 0.1
    ctx.font = `400 ${small}px "${fontFamily}"`
    if (caption.mark !== undefined) {
      ctx.fillStyle = "rgba(255,255,255,0.78)"
      ctx.fillText(caption.mark, padX, y)
    }
    if (caption.meta !== undefined) {
      ctx.fillStyle = "rgba(255,255,255,0.55)"
      ctx.textAlign = "right"
      ctx.fillText(caption.meta, width - padX, y)
      ctx.textAlign = "left"
    }
  }
}

/** @internal */
export interface PaintOptions {
  readonly scene: Scene
  readonly rng: Random
  readonly width: number
  readonly height: number
  readonly background: Image | undefined
  /** Absent for no caption (also left out on images too small to read it). */
  readonly caption: CaptionOptions | undefined
}

/** @internal */
export const paint = (ctx: Ctx, options: PaintOptions): void => {
  const { height, width } = options
  const frame: Frame = { ctx, rng: options.rng, width, height, unit: Math.min(width, height) }
  if (options.background !== undefined) drawCover(frame, options.background)
  else if (options.scene.kind === "landscape") drawLandscape(frame, options.scene)
  else drawAbstract(frame, options.scene)
  if (options.background === undefined) drawVignette(frame)
  if (options.caption !== undefined && width >= 200 && height >= 140) drawCaption(frame, options.caption)
}
