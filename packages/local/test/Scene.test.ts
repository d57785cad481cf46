import { assert, describe, it } from "@effect/vitest"
import * as Scene from "../src/internal/scene.js"

describe("Scene.plan", () => {
  it("reads the time of day and the subjects from the prompt", () => {
    const lighthouse = Scene.plan("A Lighthouse on a cliff at SUNSET")
    assert.strictEqual(lighthouse.kind, "landscape")
    assert.strictEqual(lighthouse.time, "sunset")
    assert.isTrue(lighthouse.lighthouse)
    assert.isTrue(lighthouse.cliff)
    assert.isTrue(lighthouse.water)

    const night = Scene.plan("a cabin in a snowy forest at night")
    assert.strictEqual(night.time, "night")
    assert.isTrue(night.moon)
    assert.isTrue(night.snow)
    assert.isTrue(night.forest)
    assert.isTrue(night.house)
  })

  it("falls back to an abstract composition, coloured by colour words", () => {
    const cat = Scene.plan("a cat wearing a tiny hat")
    assert.strictEqual(cat.kind, "abstract")
    assert.isUndefined(cat.hue)
    assert.strictEqual(Scene.plan("a purple dragon").hue, 275)
  })

  it("matches whole words only", () => {
    const waterfall = Scene.plan("a waterfall")
    assert.isFalse(waterfall.autumn)
    assert.isFalse(Scene.plan("seashells").water)
    assert.strictEqual(Scene.plan("a red barn in a green field").houseHue, 355)
  })
})
