/**
 * The size Llama 3.2 Vision's image processor resizes an image to before it tiles it (transformers'
 * MllamaImageProcessor, which vLLM runs: `get_optimal_tiled_canvas` then `get_image_size_fit_to_canvas`, tile 560,
 * at most 4 tiles). The canvas is a grid of at most 4 tiles (1×1 … 1×4, 2×2, 4×1: up to 2240 px on a side); the
 * image is scaled, aspect kept, to fill the canvas on its limiting side, then padded. An image larger than every
 * canvas is scaled down; a smaller one is scaled up. Pure arithmetic, mirrored from the reference implementation.
 */
export interface Size {
  readonly width: number
  readonly height: number
}

export const MLLAMA_TILE_SIZE = 560
export const MLLAMA_MAX_TILES = 4

/** Tile grids (columns × rows) with at most `maxTiles` tiles, in the processor's order. */
const arrangements = (maxTiles: number): ReadonlyArray<Size> => {
  const grids: Array<Size> = []
  for (let columns = 1; columns <= maxTiles; columns++)
    for (let rows = 1; rows <= maxTiles; rows++)
      if (columns * rows <= maxTiles) grids.push({ width: columns, height: rows })
  return grids
}

/**
 * `get_optimal_tiled_canvas`: the smallest upscale that fills some canvas, else the mildest downscale; among canvases
 * with that scale, the smallest area.
 */
export const optimalCanvas = (image: Size, tileSize = MLLAMA_TILE_SIZE, maxTiles = MLLAMA_MAX_TILES): Size => {
  const canvases = arrangements(maxTiles).map((grid) => ({
    width: grid.width * tileSize,
    height: grid.height * tileSize,
  }))
  const scales = canvases.map((canvas) => Math.min(canvas.width / image.width, canvas.height / image.height))
  const upscales = scales.filter((scale) => scale >= 1)
  const chosen = upscales.length > 0 ? Math.min(...upscales) : Math.max(...scales)
  let best: Size | undefined
  canvases.forEach((canvas, i) => {
    if (scales[i] !== chosen) return
    if (best === undefined || canvas.width * canvas.height < best.width * best.height) best = canvas
  })
  return best!
}

/** `get_image_size_fit_to_canvas`: the resized image, aspect kept, between one tile and the canvas on each side. */
export const fitToCanvas = (image: Size, canvas: Size, tileSize = MLLAMA_TILE_SIZE): Size => {
  const clamp = (value: number, high: number) => Math.min(Math.max(value, tileSize), high)
  const targetWidth = clamp(image.width, canvas.width)
  const targetHeight = clamp(image.height, canvas.height)
  const scaleWidth = targetWidth / image.width
  const scaleHeight = targetHeight / image.height
  return scaleWidth < scaleHeight
    ? { width: targetWidth, height: Math.min(Math.floor(image.height * scaleWidth), targetHeight) }
    : { width: Math.min(Math.floor(image.width * scaleHeight), targetWidth), height: targetHeight }
}

/** What the processor resizes an image of this size to. */
export const processorSize = (image: Size, tileSize = MLLAMA_TILE_SIZE, maxTiles = MLLAMA_MAX_TILES): Size =>
  fitToCanvas(image, optimalCanvas(image, tileSize, maxTiles), tileSize)
