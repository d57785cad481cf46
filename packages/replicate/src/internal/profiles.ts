/**
 * How each known model spells the common request fields in its `input` (shared by the provider and the
 * fake server). Models the table does not know get the generic profile.
 */

export interface Profile {
  /** Sends `num_outputs` (array output); otherwise one image per prediction. */
  readonly numOutputs: number | undefined
  /**
   * How a pixel size is sent: `aspectRatio` (no width/height: an exact ratio only), `custom`
   * (`aspect_ratio: "custom"` plus width/height), `widthHeight` (plain width/height).
   */
  readonly size: "aspectRatio" | "custom" | "widthHeight" | "generic"
  /** The ratios the model's `aspect_ratio` enum accepts. */
  readonly aspectRatios: ReadonlyArray<string> | undefined
  /** Where input images go: one URL field, or a list field. */
  readonly image: { readonly field: string; readonly list: boolean; readonly max: number } | undefined
  readonly mask: string | undefined
  readonly negativePrompt: boolean
  readonly outputFormats: ReadonlyArray<string> | undefined
  /** `resolution` enum values per core resolution (FLUX.2). */
  readonly resolution: Readonly<Record<string, string>> | undefined
  /** Sends `aspect_ratio: "match_input_image"` when images are given without a size or ratio. */
  readonly matchInputImage: boolean
  /** The `output` shape: one URL string, or an array of URL strings. */
  readonly output: "string" | "array"
  /** A typical safety-checker failure message (used by the fake). */
  readonly nsfwMessage: string
}

const flux1Ratios = ["1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"]
const proRatios = ["1:1", "16:9", "3:2", "2:3", "4:5", "5:4", "9:16", "3:4", "4:3"]
const kontextRatios = ["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "4:5", "5:4", "21:9", "9:21", "2:1", "1:2"]
const webpJpgPng = ["webp", "jpg", "png"]

const openWeightsNsfw = "All generated images contained NSFW content. Try running it again with a different prompt."
const apiNsfw = "Content moderated: the prompt or output was flagged as sensitive (E005)."

const base: Profile = {
  numOutputs: undefined,
  size: "aspectRatio",
  aspectRatios: flux1Ratios,
  image: undefined,
  mask: undefined,
  negativePrompt: false,
  outputFormats: webpJpgPng,
  resolution: undefined,
  matchInputImage: false,
  output: "string",
  nsfwMessage: apiNsfw
}

/** The generic profile for models this table does not know. */
export const generic: Profile = {
  numOutputs: 16,
  size: "generic",
  aspectRatios: undefined,
  image: { field: "image", list: false, max: 16 },
  mask: "mask",
  negativePrompt: true,
  outputFormats: undefined,
  resolution: undefined,
  matchInputImage: false,
  output: "array",
  nsfwMessage: openWeightsNsfw
}

const flux2 = (max: number): Profile => ({
  ...base,
  size: "custom",
  aspectRatios: proRatios,
  image: { field: "input_images", list: true, max },
  resolution: { "1K": "1 MP", "2K": "4 MP" },
  matchInputImage: true
})

const table: Readonly<Record<string, Profile>> = {
  "black-forest-labs/flux-schnell": { ...base, numOutputs: 4, output: "array", nsfwMessage: openWeightsNsfw },
  "black-forest-labs/flux-dev": {
    ...base,
    numOutputs: 4,
    image: { field: "image", list: false, max: 1 },
    output: "array",
    nsfwMessage: openWeightsNsfw
  },
  "black-forest-labs/flux-1.1-pro": {
    ...base,
    size: "custom",
    aspectRatios: proRatios,
    image: { field: "image_prompt", list: false, max: 1 }
  },
  "black-forest-labs/flux-pro": {
    ...base,
    size: "custom",
    aspectRatios: proRatios,
    image: { field: "image_prompt", list: false, max: 1 }
  },
  "black-forest-labs/flux-1.1-pro-ultra": {
    ...base,
    image: { field: "image_prompt", list: false, max: 1 },
    outputFormats: ["jpg", "png"]
  },
  "black-forest-labs/flux-2-pro": flux2(8),
  "black-forest-labs/flux-2-flex": flux2(10),
  "black-forest-labs/flux-2-max": flux2(10),
  "black-forest-labs/flux-kontext-pro": {
    ...base,
    aspectRatios: kontextRatios,
    image: { field: "input_image", list: false, max: 1 },
    outputFormats: ["jpg", "png"],
    matchInputImage: true
  },
  "black-forest-labs/flux-kontext-max": {
    ...base,
    aspectRatios: kontextRatios,
    image: { field: "input_image", list: false, max: 1 },
    outputFormats: ["jpg", "png"],
    matchInputImage: true
  },
  "stability-ai/sdxl": {
    ...base,
    numOutputs: 4,
    size: "widthHeight",
    aspectRatios: undefined,
    image: { field: "image", list: false, max: 1 },
    mask: "mask",
    negativePrompt: true,
    outputFormats: undefined,
    output: "array",
    nsfwMessage: "NSFW content detected. Try running it again, or try a different prompt."
  }
}

/** `owner/name` of a model reference (`owner/name:version` -> `owner/name`). */
export const modelName = (model: string): string => model.split(":")[0]!

export const profileOf = (model: string): Profile => table[modelName(model)] ?? generic

export const isKnown = (model: string): boolean => table[modelName(model)] !== undefined
