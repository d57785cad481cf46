/**
 * How each catalog model takes its inputs on the wire. Models not listed here are unknown full ids:
 * they get the generic mapping (see `generic`).
 */

/** @internal */
export interface Wire {
  /** `image_size` (preset or `{width,height}`), `aspect_ratio` (+ `resolution`), or both for unknown ids. */
  readonly sizing: "image_size" | "aspect_ratio" | "both"
  /** Sends `resolution` (1K / 2K / 4K). */
  readonly resolution: boolean
  readonly numImages: boolean
  readonly outputFormat: boolean
  readonly seed: boolean
  readonly negativePrompt: boolean
  /** The field this endpoint takes input images in. */
  readonly imageField?: "image_url" | "image_urls" | "both" | undefined
  /** The endpoint used when the request carries input images. */
  readonly editEndpoint?: string | undefined
  /** The endpoint used when the request carries a mask (`mask_url`). */
  readonly maskEndpoint?: string | undefined
  readonly mask?: boolean | undefined
  /** `quality` is sent as this field, upper-cased. */
  readonly qualityField?: string | undefined
  /** Recraft: `svg` selects the `vector_illustration` style. */
  readonly svgStyle?: boolean | undefined
}

const imageSize: Wire = {
  sizing: "image_size",
  resolution: false,
  numImages: true,
  outputFormat: true,
  seed: true,
  negativePrompt: false
}

const aspect: Wire = {
  sizing: "aspect_ratio",
  resolution: false,
  numImages: true,
  outputFormat: true,
  seed: true,
  negativePrompt: false
}

/** The mapping for ids the table does not know: send every field a fal image model may take. */
export const generic: Wire = {
  sizing: "both",
  resolution: true,
  numImages: true,
  outputFormat: true,
  seed: true,
  negativePrompt: true,
  imageField: "both",
  mask: true
}

/** @internal */
export const table: Readonly<Record<string, Wire>> = {
  "fal-ai/flux/dev": { ...imageSize, editEndpoint: "fal-ai/flux/dev/image-to-image" },
  "fal-ai/flux/dev/image-to-image": { ...imageSize, imageField: "image_url" },
  "fal-ai/flux/schnell": imageSize,
  "fal-ai/flux-pro": imageSize,
  "fal-ai/flux-pro/v1.1": imageSize,
  "fal-ai/flux-pro/v1.1-ultra": aspect,
  "fal-ai/flux-pro/kontext": { ...aspect, imageField: "image_url" },
  "fal-ai/flux-2-pro": { ...imageSize, numImages: false, editEndpoint: "fal-ai/flux-2-pro/edit" },
  "fal-ai/flux-2-pro/edit": { ...imageSize, numImages: false, imageField: "image_urls" },
  "fal-ai/flux-2-dev-turbo": imageSize,
  "fal-ai/bytedance/seedream/v4.5/text-to-image": {
    ...imageSize,
    outputFormat: false,
    editEndpoint: "fal-ai/bytedance/seedream/v4.5/edit"
  },
  "fal-ai/bytedance/seedream/v4.5/edit": { ...imageSize, outputFormat: false, imageField: "image_urls" },
  "fal-ai/ideogram/v3": {
    ...imageSize,
    outputFormat: false,
    negativePrompt: true,
    qualityField: "rendering_speed",
    editEndpoint: "fal-ai/ideogram/v3/remix",
    maskEndpoint: "fal-ai/ideogram/v3/edit"
  },
  "fal-ai/ideogram/v3/remix": {
    ...imageSize,
    outputFormat: false,
    negativePrompt: true,
    qualityField: "rendering_speed",
    imageField: "image_url"
  },
  "fal-ai/ideogram/v3/edit": {
    ...imageSize,
    sizing: "image_size",
    outputFormat: false,
    qualityField: "rendering_speed",
    imageField: "image_url",
    mask: true
  },
  "fal-ai/recraft-v3": {
    ...imageSize,
    numImages: false,
    outputFormat: false,
    seed: false,
    svgStyle: true,
    editEndpoint: "fal-ai/recraft/v3/image-to-image"
  },
  "fal-ai/recraft/v3/image-to-image": {
    ...imageSize,
    numImages: false,
    outputFormat: false,
    seed: false,
    svgStyle: true,
    imageField: "image_url"
  },
  "fal-ai/nano-banana-2": { ...aspect, resolution: true, editEndpoint: "fal-ai/nano-banana-2/edit" },
  "fal-ai/nano-banana-2/edit": { ...aspect, resolution: true, imageField: "image_urls" },
  "fal-ai/nano-banana-pro": { ...aspect, resolution: true, editEndpoint: "fal-ai/nano-banana-pro/edit" },
  "fal-ai/nano-banana-pro/edit": { ...aspect, resolution: true, imageField: "image_urls" },
  "fal-ai/imagen4/preview": { ...aspect, resolution: true, negativePrompt: true }
}

/** fal's `image_size` presets by aspect ratio (the 1024-pixel ones). */
export const presets: Readonly<Record<string, string>> = {
  "1:1": "square_hd",
  "4:3": "landscape_4_3",
  "3:4": "portrait_4_3",
  "16:9": "landscape_16_9",
  "9:16": "portrait_16_9"
}

/** Pixel sizes of fal's presets. */
export const presetSizes: Readonly<Record<string, { readonly width: number; readonly height: number }>> = {
  square_hd: { width: 1024, height: 1024 },
  square: { width: 512, height: 512 },
  portrait_4_3: { width: 768, height: 1024 },
  portrait_16_9: { width: 576, height: 1024 },
  landscape_4_3: { width: 1024, height: 768 },
  landscape_16_9: { width: 1024, height: 576 }
}
