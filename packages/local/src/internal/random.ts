/**
 * Hashing and a small seeded pseudo-random generator, so a prompt and a seed always draw the same picture.
 */
import { createHash } from "node:crypto"

/** @internal */
export const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest()

/** An unsigned 32-bit hash of a text. @internal */
export const hash32 = (text: string): number => digest(text).readUInt32BE(0)

/** A hex hash of a text, `length` characters long. @internal */
export const hashHex = (text: string, length = 16): string => digest(text).toString("hex").slice(0, length)

/** @internal */
export interface Random {
  /** A number in [0, 1). */
  readonly next: () => number
  /** A number in [min, max). */
  readonly range: (min: number, max: number) => number
  /** An integer in [min, max]. */
  readonly int: (min: number, max: number) => number
  readonly chance: (probability: number) => boolean
  readonly pick: <A>(items: ReadonlyArray<A>) => A
}

/** mulberry32: tiny, fast and good enough for placing shapes. @internal */
export const make = (seed: number): Random => {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const range = (min: number, max: number) => min + (max - min) * next()
  return {
    next,
    range,
    int: (min, max) => Math.floor(range(min, max + 1)),
    chance: (probability) => next() < probability,
    pick: (items) => items[Math.floor(next() * items.length)]!
  }
}

/** A hex hash of some bytes. @internal */
export const hashBytes = (bytes: Uint8Array, length = 16): string =>
  createHash("sha256").update(bytes).digest("hex").slice(0, length)
