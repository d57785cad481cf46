/**
 * Token prices of the Gemini image models, USD per one million tokens, as published on Google's
 * pricing pages (the same on AI Studio paid tier and Vertex AI). Used to report the exact cost of a
 * call from its `usageMetadata`. Override with the provider's `pricing` option.
 */
import type { UsageMetadata } from "./wire.js"

export interface TokenPrice {
  /** Input text and image tokens. */
  readonly input: number
  /** Output text and thinking tokens. */
  readonly outputText: number
  /** Output image tokens. */
  readonly outputImage: number
}

export const defaults: Readonly<Record<string, TokenPrice>> = {
  "gemini-2.5-flash-image": { input: 0.3, outputText: 2.5, outputImage: 30 },
  "gemini-3-pro-image": { input: 2, outputText: 12, outputImage: 120 },
  "gemini-3.1-flash-image": { input: 0.5, outputText: 3, outputImage: 60 }
}

const baseId = (model: string) => model.replace(/-preview(-\d{2}-\d{4})?$/, "")

export const priceOf = (
  table: Readonly<Record<string, TokenPrice>>,
  model: string
): TokenPrice | undefined => table[model] ?? table[baseId(model)]

/** Cost of one call from its usage, or `undefined` when the usage or the price is unknown. */
export const costOf = (price: TokenPrice | undefined, usage: UsageMetadata | undefined): number | undefined => {
  if (price === undefined || usage === undefined) return undefined
  const prompt = usage.promptTokenCount ?? 0
  const candidates = usage.candidatesTokenCount ?? 0
  const thoughts = usage.thoughtsTokenCount ?? 0
  const details = usage.candidatesTokensDetails
  const image = details === undefined
    ? candidates
    : details.filter((d) => d.modality?.toUpperCase() === "IMAGE").reduce((a, d) => a + (d.tokenCount ?? 0), 0)
  const text = Math.max(0, candidates - image) + thoughts
  const usd = (prompt * price.input + text * price.outputText + image * price.outputImage) / 1_000_000
  return Math.round(usd * 1e6) / 1e6
}
