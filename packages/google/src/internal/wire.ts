/**
 * Wire shapes of the Gemini `generateContent` and Imagen `:predict` endpoints (camelCase, as the REST
 * layer answers). Unknown fields are ignored when decoding.
 */
import * as Schema from "effect/Schema"

export const InlineData = Schema.Struct({
  mimeType: Schema.optional(Schema.String),
  data: Schema.String
})

export const Part = Schema.Struct({
  text: Schema.optional(Schema.String),
  inlineData: Schema.optional(InlineData),
  thought: Schema.optional(Schema.Boolean),
  thoughtSignature: Schema.optional(Schema.String)
})
export type Part = typeof Part.Type

export const Candidate = Schema.Struct({
  content: Schema.optional(Schema.Struct({
    role: Schema.optional(Schema.String),
    parts: Schema.optional(Schema.Array(Part))
  })),
  finishReason: Schema.optional(Schema.String),
  finishMessage: Schema.optional(Schema.String),
  index: Schema.optional(Schema.Number)
})
export type Candidate = typeof Candidate.Type

const ModalityCount = Schema.Struct({
  modality: Schema.optional(Schema.String),
  tokenCount: Schema.optional(Schema.Number)
})

export const UsageMetadata = Schema.Struct({
  promptTokenCount: Schema.optional(Schema.Number),
  candidatesTokenCount: Schema.optional(Schema.Number),
  totalTokenCount: Schema.optional(Schema.Number),
  thoughtsTokenCount: Schema.optional(Schema.Number),
  promptTokensDetails: Schema.optional(Schema.Array(ModalityCount)),
  candidatesTokensDetails: Schema.optional(Schema.Array(ModalityCount))
})
export type UsageMetadata = typeof UsageMetadata.Type

export const GenerateContentResponse = Schema.Struct({
  candidates: Schema.optional(Schema.Array(Candidate)),
  promptFeedback: Schema.optional(Schema.Struct({
    blockReason: Schema.optional(Schema.String),
    blockReasonMessage: Schema.optional(Schema.String)
  })),
  usageMetadata: Schema.optional(UsageMetadata),
  modelVersion: Schema.optional(Schema.String),
  responseId: Schema.optional(Schema.String)
})
export type GenerateContentResponse = typeof GenerateContentResponse.Type

export const Prediction = Schema.Struct({
  bytesBase64Encoded: Schema.optional(Schema.String),
  mimeType: Schema.optional(Schema.String),
  raiFilteredReason: Schema.optional(Schema.String),
  prompt: Schema.optional(Schema.String),
  contentType: Schema.optional(Schema.String)
})
export type Prediction = typeof Prediction.Type

export const PredictResponse = Schema.Struct({
  predictions: Schema.optional(Schema.Array(Prediction))
})
export type PredictResponse = typeof PredictResponse.Type

/** `google.rpc.Status` inside `{ "error": ... }`. */
export const ErrorBody = Schema.Struct({
  error: Schema.Struct({
    code: Schema.optional(Schema.Number),
    message: Schema.optional(Schema.String),
    status: Schema.optional(Schema.String),
    details: Schema.optional(Schema.Array(Schema.Record({ key: Schema.String, value: Schema.Unknown })))
  })
})
export type ErrorBody = typeof ErrorBody.Type

/** Replaces base64 payloads in a response by their length, so `raw` stays small enough to log. */
export const stripPayloads = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(stripPayloads)
  if (typeof value !== "object" || value === null) return value
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    out[key] = (key === "data" || key === "bytesBase64Encoded") && typeof v === "string"
      ? `[base64, ${v.length} chars]`
      : stripPayloads(v)
  }
  return out
}
