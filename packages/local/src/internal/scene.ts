/**
 * Reads a prompt for words that say what to draw: the time of day, water, land, and a few subjects.
 * Prompts with none of them get an abstract composition instead of a landscape.
 */

/** @internal */
export type Time = "day" | "sunset" | "sunrise" | "night" | "storm"

/** @internal */
export interface Scene {
  readonly kind: "landscape" | "abstract"
  readonly time: Time
  readonly water: boolean
  readonly beach: boolean
  readonly mountains: boolean
  readonly forest: boolean
  readonly desert: boolean
  readonly snow: boolean
  readonly city: boolean
  readonly cliff: boolean
  readonly lighthouse: boolean
  readonly boat: boolean
  readonly birds: boolean
  readonly house: boolean
  readonly flowers: boolean
  readonly autumn: boolean
  readonly fire: boolean
  readonly moon: boolean
  /** A hue in degrees when the prompt names a colour. */
  readonly hue: number | undefined
  /** The hue of the house when the prompt names its colour ("a red barn"). */
  readonly houseHue: number | undefined
}

const words = (...list: ReadonlyArray<string>): RegExp => new RegExp(`\\b(?:${list.join("|")})\\b`)

const patterns = {
  sunset: words("sunsets?", "sundown", "dusk", "evening", "golden hour", "twilight", "afterglow"),
  sunrise: words("sunrises?", "dawn", "daybreak", "morning"),
  night: words(
    "night",
    "nights",
    "nighttime",
    "midnight",
    "stars?",
    "starry",
    "starlight",
    "moonlit",
    "moonlight",
    "galaxy",
    "galaxies",
    "space",
    "nebula",
    "cosmos",
    "cosmic",
    "aurora",
    "dark"
  ),
  storm: words(
    "storms?",
    "stormy",
    "rain",
    "rainy",
    "fog",
    "foggy",
    "mist",
    "misty",
    "overcast",
    "cloudy",
    "gloomy",
    "thunder"
  ),
  day: words("day", "daytime", "noon", "sunny", "summer", "bright", "sun", "sky"),
  water: words(
    "oceans?",
    "seas?",
    "seaside",
    "beach(?:es)?",
    "coast(?:al)?",
    "shore",
    "lakes?",
    "rivers?",
    "harbou?r",
    "bay",
    "waves?",
    "islands?",
    "water",
    "pier",
    "ports?",
    "lagoon",
    "reef"
  ),
  beach: words("beach(?:es)?", "sand", "sandy", "tropical", "palms?"),
  mountains: words(
    "mountains?",
    "alps",
    "alpine",
    "peaks?",
    "summit",
    "volcano(?:es)?",
    "canyon",
    "valley",
    "ridge",
    "fjords?"
  ),
  hills: words("hills?", "meadows?", "fields?", "countryside", "farm", "landscape", "prairie", "grass(?:land)?"),
  forest: words("forests?", "trees?", "woods", "woodland", "jungle", "pines?", "garden", "park", "grove", "rainforest"),
  desert: words("deserts?", "dunes?", "sahara", "cactus", "cacti", "oasis"),
  snow: words("snow", "snowy", "winter", "ice", "icy", "arctic", "frozen", "glaciers?", "christmas"),
  city: words(
    "city",
    "cities",
    "skyline",
    "towns?",
    "street",
    "buildings?",
    "skyscrapers?",
    "cyberpunk",
    "neon",
    "downtown",
    "metropolis",
    "urban"
  ),
  cliff: words("cliffs?", "bluff", "headland", "crag"),
  lighthouse: words("lighthouses?"),
  boat: words("boats?", "ships?", "sail", "sails", "sailboats?", "sailing", "yachts?", "pirates?"),
  birds: words("birds?", "seagulls?", "gulls?", "flock", "crows?", "eagles?", "doves?"),
  house: words("house", "houses", "cabin", "cottage", "hut", "barn", "home", "village", "castle", "chalet"),
  flowers: words("flowers?", "floral", "blossoms?", "cherry", "spring", "tulips?", "roses?", "bloom(?:ing)?"),
  autumn: words("autumn", "fall", "maple", "harvest"),
  fire: words("fire", "fiery", "lava", "volcano(?:es)?", "inferno", "flames?", "dragon"),
  moon: words("moon", "moons", "moonlit", "moonlight", "lunar")
}

const colourHues: ReadonlyArray<readonly [RegExp, number]> = [
  [words("red", "crimson", "scarlet", "ruby"), 355],
  [words("orange", "amber", "copper"), 28],
  [words("gold", "golden", "yellow"), 46],
  [words("lime", "mint"), 100],
  [words("green", "emerald", "jade"), 140],
  [words("teal", "turquoise", "cyan", "aqua"), 180],
  [words("blue", "azure", "sapphire", "cobalt"), 215],
  [words("navy", "indigo"), 235],
  [words("purple", "violet", "lavender", "lilac", "amethyst"), 275],
  [words("magenta", "fuchsia"), 305],
  [words("pink", "rose", "pastel"), 335]
]

/** @internal */
export const plan = (prompt: string): Scene => {
  const text = prompt.toLowerCase()
  const has = (key: keyof typeof patterns) => patterns[key].test(text)
  const lighthouse = has("lighthouse")
  const water = has("water") || lighthouse || has("boat")
  const time: Time = has("sunset")
    ? "sunset"
    : has("sunrise")
    ? "sunrise"
    : has("night")
    ? "night"
    : has("storm")
    ? "storm"
    : has("moon") && !has("day")
    ? "night"
    : "day"
  const scenic = time !== "day" || water || has("day") ||
    ([
      "mountains",
      "hills",
      "forest",
      "desert",
      "snow",
      "city",
      "cliff",
      "house",
      "birds",
      "flowers",
      "autumn"
    ] as const)
      .some(has)
  const hue = colourHues.find(([pattern]) => pattern.test(text))?.[1]
  const houseColour = /\b([a-z]+)\s+(?:house|houses|cabin|cottage|hut|barn|home|castle|chalet)\b/.exec(text)?.[1]
  const houseHue = houseColour === undefined
    ? undefined
    : colourHues.find(([pattern]) => pattern.test(houseColour))?.[1]
  return {
    kind: scenic ? "landscape" : "abstract",
    time,
    water,
    beach: has("beach"),
    mountains: has("mountains"),
    forest: has("forest") || has("autumn"),
    desert: has("desert"),
    snow: has("snow"),
    city: has("city"),
    cliff: has("cliff") || lighthouse,
    lighthouse,
    boat: has("boat"),
    birds: has("birds"),
    house: has("house"),
    flowers: has("flowers"),
    autumn: has("autumn"),
    fire: has("fire"),
    moon: has("moon") || (time === "night" && !has("storm")),
    hue,
    houseHue
  }
}
