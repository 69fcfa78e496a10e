// Number and time formatting for the dashboard.

/**
 * The user's language as a BCP 47 tag, or `en-US` where `language` is none:
 * WebKitGTK reports the POSIX locale (`C` under `LANG=C.UTF-8`) as
 * `navigator.language`, and `Intl` refuses it with a RangeError.
 */
export function displayLocale(language = navigator.language): string {
  try {
    return Intl.getCanonicalLocales(language)[0] ?? 'en-US';
  } catch {
    return 'en-US';
  }
}

const priceFormats = new Map<number, Intl.NumberFormat>();

/** A price with the decimals its size needs (2 above 1, 4 below); `scale` picks them for a change. */
export function formatPrice(price: number, scale = price): string {
  const digits = Math.abs(scale) >= 1 ? 2 : 4;
  let format = priceFormats.get(digits);
  if (!format) {
    format = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
    priceFormats.set(digits, format);
  }
  return format.format(price);
}

/** A signed change of a price, e.g. "+1.25", with the price's decimals. */
export function formatChange(change: number, price: number): string {
  return `${change > 0 ? '+' : change < 0 ? '−' : '±'}${formatPrice(Math.abs(change), price)}`;
}

/** A signed percentage, e.g. "+0.66 %". */
export function formatPercent(percent: number): string {
  return `${percent > 0 ? '+' : percent < 0 ? '−' : '±'}${Math.abs(percent).toFixed(2)} %`;
}

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** A volume, e.g. "1.2M". */
export function formatVolume(volume: number): string {
  return compact.format(volume);
}
