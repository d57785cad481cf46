/** Tiny sample files the fake serves as results. */
const decode = (base64: string): Uint8Array => new Uint8Array(Buffer.from(base64, "base64"))

/** A 1x1 PNG. */
export const png = decode(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

/** An MP4 header (`ftyp` box plus an empty `mdat`): enough for a media-type sniffer, not a playable clip. */
export const mp4 = new Uint8Array([
  ...[0, 0, 0, 0x18],
  ...Buffer.from("ftypmp42"),
  ...[0, 0, 0, 0],
  ...Buffer.from("mp42isom"),
  ...[0, 0, 0, 8],
  ...Buffer.from("mdat")
])
