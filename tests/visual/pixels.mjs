// Reading a screenshot as a person would: which colours it holds, how much
// of a region is drawn on, how much changed between two shots. Regions are
// in CSS pixels of the shot's element; `scale` maps them onto the image.
import { PNG } from 'pngjs';

/** Decodes a PNG screenshot into `{ width, height, data }` (RGBA bytes). */
export function decode(png) {
  return PNG.sync.read(png);
}

/** `#rrggbb`, `#rgb` or `rgb(r, g, b)` → [r, g, b]. */
export function parseColour(css) {
  const hex = css.trim().match(/^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i);
  if (hex) return hex.slice(1, 4).map((h) => parseInt(h, 16));
  const short = css.trim().match(/^#([0-9a-f])([0-9a-f])([0-9a-f])$/i);
  if (short) return short.slice(1, 4).map((h) => parseInt(h + h, 16));
  const rgb = css.match(/rgba?\((\d+),\s*(\d+),\s*(\d+)/);
  if (rgb) return rgb.slice(1, 4).map(Number);
  throw new Error(`not a colour: ${css}`);
}

/** `top` drawn with `alpha` (0–1) over `bottom`. */
export function blend(top, bottom, alpha) {
  return top.map((c, i) => Math.round(c * alpha + bottom[i] * (1 - alpha)));
}

/** Calls `visit(r, g, b)` for each pixel of `region` ({x, y, w, h} in CSS px; the whole image when absent). */
function each(image, region, scale, visit) {
  const x0 = region ? Math.max(0, Math.floor(region.x * scale)) : 0;
  const y0 = region ? Math.max(0, Math.floor(region.y * scale)) : 0;
  const x1 = region ? Math.min(image.width, Math.floor((region.x + region.w) * scale)) : image.width;
  const y1 = region ? Math.min(image.height, Math.floor((region.y + region.h) * scale)) : image.height;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const i = (y * image.width + x) * 4;
      visit(image.data[i], image.data[i + 1], image.data[i + 2]);
    }
  }
}

const close = (r, g, b, colour, tolerance) =>
  Math.abs(r - colour[0]) <= tolerance && Math.abs(g - colour[1]) <= tolerance && Math.abs(b - colour[2]) <= tolerance;

/** How many pixels of `region` are within `tolerance` (per channel) of `colour`. */
export function countNear(image, colour, { region, scale = 1, tolerance = 24 } = {}) {
  let n = 0;
  each(image, region, scale, (r, g, b) => {
    if (close(r, g, b, colour, tolerance)) n++;
  });
  return n;
}

/**
 * What a region shows: its most common colour (the background), how many
 * distinct colours it has (4 bits a channel), and the share of its pixels
 * that differ from the background by more than `tolerance` (the ink).
 */
export function survey(image, { region, scale = 1, tolerance = 24 } = {}) {
  const counts = new Map();
  each(image, region, scale, (r, g, b) => {
    const key = (r << 16) | (g << 8) | b;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  let background = 0;
  let most = -1;
  const distinct = new Set();
  let total = 0;
  for (const [key, n] of counts) {
    total += n;
    distinct.add(((key >> 20) & 0xf) << 8 | ((key >> 12) & 0xf) << 4 | ((key >> 4) & 0xf));
    if (n > most) [background, most] = [key, n];
  }
  const bg = [(background >> 16) & 0xff, (background >> 8) & 0xff, background & 0xff];
  let ink = 0;
  for (const [key, n] of counts) {
    if (!close((key >> 16) & 0xff, (key >> 8) & 0xff, key & 0xff, bg, tolerance)) ink += n;
  }
  return { background: bg, distinct: distinct.size, ink: total === 0 ? 0 : ink / total, pixels: total };
}

/** The share of pixels that differ (by more than `tolerance` in any channel) between two shots of the same size. */
export function changed(a, b, tolerance = 24) {
  if (a.width !== b.width || a.height !== b.height) return 1;
  let n = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    if (!close(a.data[i], a.data[i + 1], a.data[i + 2], [b.data[i], b.data[i + 1], b.data[i + 2]], tolerance)) n++;
  }
  return n / (a.width * a.height);
}
