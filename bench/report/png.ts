import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export const RSVG_BIN = '/usr/bin/rsvg-convert';

/**
 * SVG → PNG with rsvg-convert (Debian: librsvg2-bin). Resolves false, rather
 * than failing the whole bench, when the converter is not installed: the SVG
 * next to it holds the same chart.
 */
export async function svgToPng(svgFile: string, pngFile: string): Promise<boolean> {
  if (!existsSync(RSVG_BIN)) return false;
  await new Promise<void>((resolve, reject) => {
    execFile(RSVG_BIN, ['-o', pngFile, svgFile], (err) => (err ? reject(err) : resolve()));
  });
  return true;
}
